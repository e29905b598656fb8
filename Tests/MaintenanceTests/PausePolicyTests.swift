import Foundation
import Maintenance
import MemoryStore
import TestSupport
import Testing

/// A job pauses longer between its batches while another process writes to the store, so that
/// process's writer, polling in SQLite's busy handler, finds the lock free when it looks.
@Suite struct PausePolicyTests {
    static let quiet = Duration.milliseconds(2)
    static let contended = Duration.milliseconds(30)

    /// `data_version` readings, one per pause, and the pauses they give (q: quiet, c: contended).
    @Test(arguments: [
        ([1, 1, 1, 1], "qqqq"),
        ([1, 2], "qc"),
        ([1, 2, 2, 2, 2, 2, 2, 2, 2, 2], "qccccccccq"),
        ([1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3], "qcccccccccccq"),
        ([5], "q"),
    ] as [([Int64], String)])
    func anotherProcessesWriteLengthensTheNextEightPauses(versions: [Int64], expected: String) {
        var policy = PausePolicy(quiet: Self.quiet, contended: Self.contended)
        let pauses = versions.map { policy.pause(dataVersion: $0) == Self.quiet ? "q" : "c" }.joined()
        #expect(pauses == expected)
    }

    @Test func aContendedPauseIsNeverShorterThanTheQuietOne() {
        var policy = PausePolicy(quiet: .milliseconds(50), contended: Self.contended)
        #expect(policy.pause(dataVersion: 1) == .milliseconds(50))
        #expect(policy.pause(dataVersion: 2) == .milliseconds(50))
    }

    @Test func theStoresDataVersionMovesForAnotherConnectionsCommitOnly() async throws {
        let t = try TestStore()
        let before = try await t.store.dataVersion()
        _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "our own write"))
        #expect(try await t.store.dataVersion() == before, "this process's writes share the writer connection")
        let other = try MemoryStore(path: t.directory.appendingPathComponent("store.db").path, clock: t.clock)
        _ = try await other.storeMemory(NewMemory(agentID: "a2", content: "another process's write"))
        #expect(try await t.store.dataVersion() != before)
    }

    /// Purges `rows` expired memories in batches of one on a clock that records each pause;
    /// `onSleep` runs at each pause with its index.
    static func purge(
        _ t: TestStore, rows: Int, batchPause: Duration? = Self.quiet,
        onSleep: @escaping @Sendable (Int) async throws -> Void = { _ in }
    ) async throws -> (JobReport, [Duration]) {
        for index in 0..<rows {
            _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
        }
        t.clock.advance(seconds: 61)
        let clock = PauseRecordingClock(onSleep: onSleep)
        var runner = t.runner {
            $0.purge.batchSize = 1
            $0.jobs.batchPause = batchPause
            $0.jobs.contendedPause = Self.contended
        }
        runner.clock = AnyClock(clock)
        return (await t.run(.purge, runner), clock.pauses)
    }

    /// Purge of 20 rows in batches of one: another connection commits during the first pause,
    /// so the next eight pauses are the contended one and the rest are short again.
    @Test func aPurgePausesLongerWhileAnotherConnectionWrites() async throws {
        let t = try TestStore()
        let other = try MemoryStore(path: t.directory.appendingPathComponent("store.db").path, clock: t.clock)
        let (report, pauses) = try await Self.purge(t, rows: 20) { index in
            if index == 0 { _ = try await other.storeMemory(NewMemory(agentID: "a2", content: "a foreground write")) }
        }
        #expect(report.status == .ok && report.deletedMemories == 20)
        #expect(pauses.count >= 19)
        #expect(pauses.first == Self.quiet)
        #expect(Array(pauses.dropFirst().prefix(8)) == Array(repeating: Self.contended, count: 8))
        #expect(pauses.dropFirst(9).allSatisfy { $0 == Self.quiet })
    }

    @Test func withoutAnotherWriterEveryPauseIsShort() async throws {
        let (report, pauses) = try await Self.purge(try TestStore(), rows: 10)
        #expect(report.status == .ok && report.deletedMemories == 10)
        #expect(pauses.count >= 9 && pauses.allSatisfy { $0 == Self.quiet })
    }

    /// Unset, `jobs.batch_pause` is 2 ms on SQLite and none on PostgreSQL, whose writers lock
    /// only the rows they change (there is no lock to hand over); set, it throttles either.
    @Test(arguments: [
        (TestBackend.sqlite, nil, Duration.milliseconds(2)), (.postgres, nil, nil), (.postgres, quiet, quiet),
    ] as [(TestBackend, Duration?, Duration?)])
    func theDefaultPauseIsTheStoresAndASetOneThrottlesEither(
        backend: TestBackend, configured: Duration?, expected: Duration?
    ) async throws {
        try await TestStore.with(backend) { t in
            let (report, pauses) = try await Self.purge(t, rows: 10, batchPause: configured)
            #expect(report.status == .ok && report.deletedMemories == 10)
            if let expected {
                #expect(pauses.count >= 9 && pauses.allSatisfy { $0 == expected }, "\(pauses)")
            } else {
                #expect(pauses.isEmpty)
            }
        }
    }
}
