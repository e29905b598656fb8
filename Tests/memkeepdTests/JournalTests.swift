import Foundation
import Maintenance
import MemoryStore
import Testing
import TestSupport

/// Entries go through the real journald and come back with `journalctl -o json`.
@Suite(.journald) struct JournalTests {
    static let socketPath = "/run/systemd/journal/socket"

    /// Whether something answers on the journal socket (a stale socket file refuses).
    static func journaldListens() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: Array(socketPath.utf8) + [0])
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// Starts systemd-journald when none runs (a container without systemd as PID 1); returns
    /// it so that whoever started it stops it.
    static func startJournaldIfNeeded() async throws -> Process? {
        guard !journaldListens() else { return nil }
        let journald = Process()
        journald.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journald")
        journald.standardOutput = FileHandle.nullDevice
        journald.standardError = FileHandle.nullDevice
        try journald.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while !journaldListens(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return journald
    }

    /// What the journal holds of a process now. PIDs are reused (a container's PID namespace
    /// wraps at 32k, and a kept journal holds earlier boots of the same image), so only entries
    /// received after the process started are its own.
    static func journal(pid: Int32, since start: Date) async throws -> [[String: Any]] {
        let (_, output) = try await Process.tool("/usr/bin/journalctl", ["-o", "json", "_PID=\(pid)"])
        let startMicroseconds = UInt64(start.timeIntervalSince1970 * 1_000_000)
        return output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { entry in
            (entry["__REALTIME_TIMESTAMP"] as? String).flatMap(UInt64.init).map { $0 >= startMicroseconds } == true
        }
    }

    /// The process's entries once `complete` says they are all there (as they are after two
    /// minutes, whatever they hold).
    static func entries(
        pid: Int32, since start: Date, until complete: ([[String: Any]]) -> Bool
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let entries = try await journal(pid: pid, since: start)
            if complete(entries) || ContinuousClock.now > deadline { return entries }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The first entry of the process that matches, once the journal has it.
    static func entry(
        pid: Int32, since start: Date, where matches: @escaping ([String: Any]) -> Bool
    ) async throws -> [String: Any]? {
        try await entries(pid: pid, since: start) { $0.contains(where: matches) }.first(where: matches)
    }

    @Test func aConsolidationRunCountsEachFateInTheJournal() async throws {
        #expect(Self.journaldListens())
        let m = try Memkeepd(["MEMKEEP_LOG_TARGET": "journal", "MEMKEEP_LOG_LEVEL": "info"])
        let store = try m.store()
        let session = try await store.startSession(.init(agentID: "acme"))
        _ = try await store.storeMemory(.init(agentID: "acme", sessionID: session.id, content: "Said thanks.", importance: 0.2))
        _ = try await store.storeMemory(.init(agentID: "acme", sessionID: session.id, content: "Runs on AlloyDB.", importance: 0.9))
        _ = try await store.endSession(id: session.id)
        let started = Date()
        let (process, out, _) = try m.start(["run", "consolidate", "--agent", "acme"])
        #expect(await process.finish(stdout: out).status == 0)
        let finished = try #require(
            try await Self.entry(pid: process.processIdentifier, since: started) { $0["MESSAGE_ID"] as? String == MessageID.jobFinished })
        #expect(finished["MEMKEEP_FATE_BELOW_FLOOR"] as? String == "1")
        #expect(finished["MEMKEEP_FATE_KEPT"] as? String == "1")
        #expect(finished["MEMKEEP_SUMMARIES"] as? String == "1")
    }

    @Test func jobRunsAndOrphanClosuresReachTheJournalWithTheirFields() async throws {
        #expect(Self.journaldListens())
        let m = try Memkeepd(["MEMKEEP_LOG_TARGET": "journal", "MEMKEEP_LOG_LEVEL": "info"])
        let store = try m.store()
        let session = try await store.startSession(.init(agentID: "support-customer-9182"))
        let started = Date()
        let (process, out, _) = try m.start(["run", "all", "--now", "2030-01-01T00:00:00Z"])
        #expect(await process.finish(stdout: out).status == 0)

        let jobs = ["orphans", "consolidate", "decay", "purge"]
        let entries = try await Self.entries(pid: process.processIdentifier, since: started) { entries in
            jobs.allSatisfy { job in
                entries.contains { $0["MEMKEEP_JOB"] as? String == job && $0["MESSAGE_ID"] as? String == MessageID.jobFinished }
            } && entries.contains { $0["MESSAGE_ID"] as? String == MessageID.sessionOrphaned }
        }
        let finished = try #require(
            entries.first { $0["MEMKEEP_JOB"] as? String == "orphans" && $0["MESSAGE_ID"] as? String == MessageID.jobFinished },
            "\(entries)")
        #expect(finished["MEMKEEP_CHANGED"] as? String == "1")
        #expect(finished["MEMKEEP_EXAMINED"] as? String == "1")
        #expect(finished["MEMKEEP_DRY_RUN"] as? String == "false")
        #expect(Int(finished["MEMKEEP_RUN_ID"] as? String ?? "") != nil)
        #expect(Double(finished["MEMKEEP_DURATION_MS"] as? String ?? "") != nil)
        #expect((finished["CODE_FILE"] as? String)?.hasSuffix("JobRunner.swift") == true)
        #expect(Int(finished["CODE_LINE"] as? String ?? "") != nil)
        #expect(finished["CODE_FUNC"] as? String != nil)
        #expect(finished["SYSLOG_IDENTIFIER"] as? String == "memkeepd")
        #expect(finished["PRIORITY"] as? String == "6")
        #expect(finished["TID"] as? String != nil)

        let orphan = try #require(entries.first { $0["MESSAGE_ID"] as? String == MessageID.sessionOrphaned })
        #expect(orphan["SESSION_ID"] as? String == session.id)
        #expect(orphan["AGENT_ID"] as? String == "support-customer-9182")
        #expect(Int(orphan["MEMKEEP_IDLE_SECONDS"] as? String ?? "").map { $0 > 1_800 } == true)
        for job in jobs {
            #expect(entries.contains { $0["MEMKEEP_JOB"] as? String == job && $0["MESSAGE_ID"] as? String == MessageID.jobFinished })
        }
    }
}

/// A journald for the suite: the machine's own when one answers, else one started for the
/// suite and stopped when it ends, so the test run leaves no daemon behind.
struct JournaldScope: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let started = try await JournalTests.startJournaldIfNeeded()
        do {
            try await function()
        } catch {
            await Self.stop(started)
            throw error
        }
        await Self.stop(started)
    }

    static func stop(_ journald: Process?) async {
        guard let journald else { return }
        journald.terminate()
        _ = await journald.finish()
    }
}

extension Trait where Self == JournaldScope {
    static var journald: Self { JournaldScope() }
}
