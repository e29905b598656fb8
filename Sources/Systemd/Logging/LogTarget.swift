import Foundation
import Logging

/// Where log entries go: the journal natively, or stderr lines with a `<N>` prefix.
public enum LogTarget: String, Sendable, CaseIterable {
    /// The journal when stderr is the journal stream systemd connected (`JOURNAL_STREAM`),
    /// else stderr.
    case auto
    case journal
    case stderr

    /// The concrete target: `auto` becomes `journal` only when `JOURNAL_STREAM` names stderr's
    /// device and inode (a child whose stderr was redirected elsewhere must not use it).
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogTarget {
        guard self == .auto else { return self }
        guard let stream = environment["JOURNAL_STREAM"] else { return .stderr }
        return Self.stderrIs(journalStream: stream) ? .journal : .stderr
    }

    /// `JOURNAL_STREAM` is `DEVICE:INODE` in decimal.
    static func stderrIs(journalStream: String) -> Bool {
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// A handler factory for `LoggingSystem`/`Logger(label:factory:)` on this target.
    public func handlerFactory(level: Logger.Level, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> @Sendable (String) -> any LogHandler
    {
        switch resolved(environment: environment) {
        case .journal: { label in JournalLogHandler(identifier: label, level: level) }
        case .stderr, .auto: { label in StderrLogHandler(label: label, level: level) }
        }
    }
}
