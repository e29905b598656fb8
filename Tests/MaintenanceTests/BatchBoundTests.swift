import Foundation
import Maintenance
import MemoryStore
import Synchronization
import TestSupport
import Testing

/// `jobs.max_batch_time`: a job's write transaction commits once it has held the lock for the
/// bound, on the run's clock, and the next one carries on from the last row done. The clock here
/// moves one millisecond each time it is read, so a 5 ms bound ends every transaction after five
/// rows, however fast the machine is.
@Suite struct BatchBoundTests {
    static func ticking() -> BatchBound {
        let reads = Atomic<Int64>(0)
        return BatchBound(limit: .milliseconds(5)) { .milliseconds(reads.add(1, ordering: .relaxed).newValue) }
    }

    /// The transactions 12 rows of a set-based job take: SQLite checks the bound after each row;
    /// PostgreSQL after each statement of up to 256 rows, so the 12 go in one.
    static func sizes(_ backend: TestBackend) -> [Int] {
        backend == .sqlite ? [5, 5, 2] : [12]
    }

    @Test(arguments: TestBackend.allCases)
    func decayCommitsEveryFiveRowsAndDecaysEachRowOnce(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            for index in 0..<23 { _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "fact \(index)", importance: 0.8)) }
            let bound = Self.ticking()
            var cursor = Cursor.start
            var sizes: [Int] = []
            let seen = Mutex<[String]>([])
            while true {
                let batch = try await t.store.decayBatch(
                    scope: .live(.episodic), after: cursor, limit: 1000, now: t.clock.now(), dryRun: false, bound: bound
                ) { candidate in
                    seen.withLock { $0.append(candidate.id) }
                    return .set(candidate.importance / 2)
                }
                sizes.append(batch.examined)
                guard let next = batch.next else { break }
                cursor = next
            }
            #expect(sizes == [5, 5, 5, 5, 3])
            let ids = seen.withLock { $0 }
            #expect(Set(ids).count == 23 && ids.count == 23, "every row once")
            #expect(try await t.store.memories(agentID: "a1", limit: 100).allSatisfy { $0.importance == 0.4 })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func purgeExportsExactlyTheRowsEachShortTransactionDeleted(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            for index in 0..<12 {
                _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
            }
            t.clock.advance(seconds: 61)
            let exported = Mutex<[String]>([])
            let bound = Self.ticking()
            let pass = try await t.store.dueForPurge(.expired(t.clock.now()), after: .start, limit: 1000)
            #expect(pass.rowids == pass.rowids.sorted() && pass.rowids.count == 12 && pass.next == nil)
            var rest = pass.rowids[...]
            var sizes: [Int] = []
            while !rest.isEmpty {
                let batch = try await t.store.purgeRows(rest, target: .expired(t.clock.now()), dryRun: false, bound: bound) {
                    memories in exported.withLock { $0 += memories.map(\.content) }
                }
                sizes.append(batch.deletedCount)
                rest = rest.dropFirst(batch.handled)
            }
            #expect(sizes == Self.sizes(backend))
            #expect(Set(exported.withLock { $0 }) == Set((0..<12).map { "transient \($0)" }))
            #expect(exported.withLock { $0 }.count == 12)
            let outcome = try await t.store.counts(now: t.clock.now()).expiredMemories
            #expect(outcome == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theOrphanSweepCommitsEveryFiveSessionsAndEndsEachOnce(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            var opened: [String] = []
            for _ in 0..<12 { opened.append(try await t.store.startSession(SessionStart(agentID: "a1")).id) }
            t.clock.advance(seconds: 1801)
            let bound = Self.ticking()
            var cursor = Cursor.start
            var sizes: [Int] = []
            var ended: [String] = []
            while true {
                let batch = try await t.store.closeOrphans(now: t.clock.now(), after: cursor, limit: 1000, dryRun: false, bound: bound)
                sizes.append(batch.closed.count)
                ended += batch.closed.map(\.id)
                guard let next = batch.next else { break }
                cursor = next
            }
            #expect(sizes == Self.sizes(backend))
            #expect(ended.sorted() == opened.sorted())
            let outcome = try await t.store.counts(now: t.clock.now()).openSessions
            #expect(outcome == 0)
        }
    }

    /// Consolidation writes a chunk's consolidations in as many transactions as the bound needs.
    @Test(arguments: TestBackend.allCases, [(Duration.seconds(60), 1), (.milliseconds(5), 4)])
    func consolidationSplitsAChunkAtTheBound(backend: TestBackend, bound: (limit: Duration, transactions: Int)) async throws {
        let (limit, transactions) = bound
        try await TestStore.with(backend) { t in
            _ = try await t.endedSessions(20)
            var runner = t.runner {
                $0.consolidation.batchSessions = 1
                $0.consolidation.maxSessions = 1
                $0.jobs.maxBatchTime = limit
            }.withoutEmbedder()
            runner.clock = AnyClock(TickingClock())
            let report = await t.run(.consolidate, runner, agent: "a1")
            #expect(report.status == .ok && report.sessionsConsolidated == 20)
            #expect(report.batches?.count == transactions)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRunReportsHowLongEachOfItsTransactionsHeldTheLock(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            for index in 0..<7 {
                _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
            }
            t.clock.advance(seconds: 61)
            let report = await t.run(.purge, t.runner { $0.purge.batchSize = 3 })
            #expect(report.deletedMemories == 7)
            // Expired rows in three transactions (3, 3, 1), none for archived ones (none due: the
            // index pass finds nothing, so nothing is written), and the three prune steps (webhook
            // receipts, kept LLM answers, job runs).
            let batches = try #require(report.batches)
            #expect(batches.count == 6 && batches.maxMs >= batches.p99Ms && batches.p99Ms >= batches.p50Ms)
            #expect(batches.p50Ms > 0)
        }
    }

    @Test(arguments: [
        ([4.0], 4.0, 4.0), ([1, 2, 3, 4], 2, 4), (Array(stride(from: 1.0, through: 100, by: 1)), 50, 99),
    ] as [([Double], Double, Double)])
    func theSummaryTakesNearestRankPercentiles(times: [Double], p50: Double, p99: Double) throws {
        let summary = try #require(BatchSummary(times.shuffled()))
        #expect(summary.p50Ms == p50 && summary.p99Ms == p99 && summary.maxMs == times.max())
        #expect(summary.count == times.count)
    }
}
