import Foundation
import Logging
import Testing

@testable import Systemd

@Suite struct LogTargetTests {
    /// `DEVICE:INODE` of this process's stderr, as systemd would put it in JOURNAL_STREAM.
    func stderrStream() -> String {
        var info = stat()
        fstat(STDERR_FILENO, &info)
        return "\(info.st_dev):\(info.st_ino)"
    }

    @Test func autoUsesTheJournalOnlyWhenJournalStreamIsThisStderr() {
        #expect(LogTarget.auto.resolved(environment: ["JOURNAL_STREAM": stderrStream()]) == .journal)
    }

    @Test func autoFallsBackToStderrWithoutOrWithAForeignJournalStream() {
        #expect(LogTarget.auto.resolved(environment: [:]) == .stderr)
        // Inherited from a parent whose stderr went to the journal, but ours was redirected.
        var info = stat()
        fstat(STDERR_FILENO, &info)
        #expect(LogTarget.auto.resolved(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino + 1)"]) == .stderr)
        #expect(LogTarget.auto.resolved(environment: ["JOURNAL_STREAM": "garbage"]) == .stderr)
    }

    @Test func anExplicitTargetWins() {
        #expect(LogTarget.journal.resolved(environment: [:]) == .journal)
        #expect(LogTarget.stderr.resolved(environment: ["JOURNAL_STREAM": stderrStream()]) == .stderr)
    }

    @Test func theFactoryBuildsTheHandlerOfTheResolvedTarget() {
        let journal = LogTarget.journal.handlerFactory(level: .debug, environment: [:])("memkeepd")
        let stderr = LogTarget.auto.handlerFactory(level: .debug, environment: [:])("memkeepd")
        #expect(journal is JournalLogHandler)
        #expect(stderr is StderrLogHandler)
        #expect(stderr.logLevel == .debug)
    }

    @Test func stderrLinesCarryTheSyslogPriorityAndStayOnOneLine() {
        let line = StderrLogHandler.format(
            level: .error, message: "job purge failed:\ndisk full", metadata: ["memkeep.job": "purge", "a": "1"])
        #expect(line == "<3>job purge failed: disk full a=1 memkeep.job=purge\n")
        #expect(StderrLogHandler.format(level: .info, message: "x", metadata: [:]) == "<6>x\n")
        #expect(StderrLogHandler.format(level: .debug, message: "x", metadata: [:]).hasPrefix("<7>"))
        #expect(StderrLogHandler.format(level: .critical, message: "x", metadata: [:]).hasPrefix("<2>"))
    }
}
