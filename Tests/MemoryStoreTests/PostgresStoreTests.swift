import Foundation
import MemoryStore
import Synchronization
import TestSupport
import Testing

/// What is PostgreSQL's own: migrations shared by nodes, constraints, and what several nodes
/// on one database see of each other (leases, deadlines, webhook receipts).
@Suite struct PostgresStoreTests {
    /// Two stores ("nodes") opened on one fresh database, on one manual clock.
    static func withTwoNodes(
        _ body: @Sendable (MemoryStore, MemoryStore, ManualClock) async throws -> Void
    ) async throws {
        try await TestPostgres.withDatabase { location in
            let clock = ManualClock(TestStore.t0)
            try await MemoryStore.withStore(at: .postgres(location), clock: clock) { a in
                try await MemoryStore.withStore(at: .postgres(location), clock: clock) { b in
                    try await body(a, b, clock)
                }
            }
        }
    }

    @Test func nodesMigratingAtOnceBothOpenOneSchema() async throws {
        try await TestPostgres.withDatabase { location in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await MemoryStore.withStore(at: .postgres(location)) { try await $0.isMigrated() }
                    }
                }
                for try await migrated in group { #expect(migrated) }
            }
            let migrated = try await MemoryStore.withStore(at: .postgres(location), access: .readOnly) { store in
                try await store.isMigrated()
            }
            #expect(migrated)
        }
    }

    /// Another node's sweep holds a session's row while it closes it; a touch waiting on that
    /// row answers the ended session, as SQLite would, not "not found".
    @Test func aTouchThatWaitedOnAnotherNodesCloseAnswersTheEndedSession() async throws {
        try await TestPostgres.withDatabase { location in
            try await MemoryStore.withStore(at: .postgres(location), clock: ManualClock(TestStore.t0)) { store in
                let session = try await store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 2))
                try await TestPostgres.withConnection(database: location.database) { sweep, logger in
                    try await sweep.query("BEGIN", logger: logger)
                    try await sweep.query(
                        """
                        UPDATE sessions SET ended_at = idle_deadline_at, ended_reason = 'idle', idle_since = last_activity_at,
                            idle_deadline_at = NULL
                        WHERE id = \(session.id)
                        """, logger: logger)
                    async let touched = store.touchSession(id: session.id, visibleTo: AgentPattern("a*"))
                    let waited = try await TestPostgres.waitForALockWaiter(on: sweep, logger: logger)
                    try await sweep.query("COMMIT", logger: logger)
                    let answer = try await touched
                    #expect(waited)
                    #expect(answer.endedReason == .idle && answer.endedAt == TestStore.t0 + 2000)
                }
                await #expect(throws: StoreError.sessionNotFound(session.id)) {
                    try await store.touchSession(id: session.id, visibleTo: AgentPattern("b*"))
                }
            }
        }
    }

    @Test func aReadOnlyOpenOfAnEmptyDatabaseSaysToMigrate() async throws {
        try await TestPostgres.withDatabase { location in
            await #expect {
                try await MemoryStore.withStore(at: .postgres(location), access: .readOnly) { _ in }
            } throws: { error in
                "\(error)".contains("run `memkeepd migrate` first")
            }
        }
    }

    @Test(arguments: [
        "UPDATE sessions SET ended_reason = 'vanished', ended_at = 1",
        "UPDATE sessions SET ended_at = 5",
        "UPDATE sessions SET idle_timeout_s = -1",
        "INSERT INTO job_runs (job, trigger, holder, started_at, status) VALUES ('purge', 'cron', 'h', 1, 'ok')",
        "INSERT INTO job_runs (job, trigger, holder, started_at, status) VALUES ('purge', 'once', 'h', 1, 'done')",
    ])
    func checkConstraintsRefuseWhatSQLiteRefuses(statement: String) async throws {
        try await TestPostgres.withDatabase { location in
            let id = try await MemoryStore.withStore(at: .postgres(location)) { store in
                try await store.startSession(SessionStart(agentID: "a1")).id
            }
            await #expect(throws: (any Error).self) { try await TestPostgres.admin(statement, database: location.database) }
            try await MemoryStore.withStore(at: .postgres(location)) { store in
                let session = try #require(try await store.session(id: id))
                #expect(session.isOpen && session.idleTimeoutSeconds == nil)
                #expect(try await store.jobRuns().isEmpty)
            }
        }
    }

    @Test func onlyOneOfManyNodesAskingAtOnceGetsALease() async throws {
        try await Self.withTwoNodes { a, b, clock in
            let outcomes = try await withThrowingTaskGroup(of: LeaseOutcome.self) { group in
                for index in 0..<16 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask {
                        try await store.acquireLease(job: "purge", holder: "node-\(index)", now: clock.now(), ttl: 60_000) {
                            _ in false
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .acquired }.count == 1)
            let holder = try #require(try await a.leaseHolder(job: "purge", now: clock.now()))
            #expect(try await b.leaseHolder(job: "purge", now: clock.now()) == holder)
            #expect(outcomes.allSatisfy { $0 == .acquired || $0 == .heldBy(holder: holder, expiresAt: clock.now() + 60_000) })
        }
    }

    @Test func aDeadlineSetOnOneNodeReachesTheWatchOfAnother() async throws {
        try await Self.withTwoNodes { a, b, clock in
            let events = EventBox()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.watchIdleDeadlines { events.append($0) } }
                await events.wait(until: { $0.contains(.listening) })
                let session = try await b.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 5))
                await events.wait(until: { $0.contains(.deadline(clock.now() + 5000)) })
                #expect(events.all.contains(.deadline(clock.now() + 5000)), "the other node heard the deadline")
                #expect(session.idleDeadlineAt == clock.now() + 5000)
                group.cancelAll()
            }
        }
    }

    @Test func aWebhookIDSeenByOneNodeIsAReplayOnAnother() async throws {
        try await Self.withTwoNodes { a, b, _ in
            let first = try await a.startSession(SessionStart(agentID: "a1"))
            let second = try await a.startSession(SessionStart(agentID: "a1"))
            let ended = try await a.endSessionByWebhook(id: first.id, webhookID: "msg_1")
            #expect(!ended.duplicate && ended.session.endedReason == .webhook)
            let replay = try await b.endSessionByWebhook(id: second.id, webhookID: "msg_1")
            #expect(replay.duplicate)
            #expect(try await b.session(id: second.id)?.isOpen == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAgentPatternMatchesOnlyStarAsAWildcard(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            for agent in ["team_1", "teamX1", "team_1-b", "other", "team.1"] {
                _ = try await t.store.startSession(SessionStart(agentID: agent))
            }
            let underscore = try await t.store.sessions(visibleTo: AgentPattern("team_*")).map(\.agentID).sorted()
            #expect(underscore == ["team_1", "team_1-b"])
            #expect(try await t.store.sessions(visibleTo: AgentPattern("team%*")).isEmpty)
            #expect(try await t.store.sessions(visibleTo: AgentPattern("team?1")).isEmpty)
            #expect(try await t.store.sessions(visibleTo: AgentPattern("*")).count == 5)
        }
    }

    /// 300 sessions whose deadlines run against their start order, so that order is only the
    /// sweep's own; a limit of 1000 takes them in one transaction of two set-based chunks on
    /// PostgreSQL, a limit of 7 in 43 batches.
    @Test(arguments: TestBackend.allCases, [7, 1000])
    func theOrphanSweepClosesEachDueSessionOnceInDeadlineOrderAndADryRunClosesNone(backend: TestBackend, limit: Int)
        async throws
    {
        try await TestStore.with(backend) { t in
            var ids: [String] = []
            for index in 0..<300 {
                let start = SessionStart(agentID: "a\(index % 3)", idleTimeoutSeconds: Int64(660 - 2 * index))
                ids.append(try await t.store.startSession(start).id)
                t.clock.advance(seconds: 1)
            }
            t.clock.advance(seconds: 400)
            let dry = try await t.store.closeOrphans(now: t.clock.now(), after: .start, limit: 1000, dryRun: true)
            #expect(dry.closed.map(\.id) == ids.reversed())
            #expect(try await t.store.sessions(openOnly: true, limit: 1000).count == 300)
            var closed: [ClosedSession] = []
            var batches = 0
            var cursor = Cursor.start
            while true {
                let batch = try await t.store.closeOrphans(now: t.clock.now(), after: cursor, limit: limit, dryRun: false)
                closed += batch.closed
                batches += 1
                guard let next = batch.next else { break }
                cursor = next
            }
            #expect(closed.map(\.id) == ids.reversed(), "in deadline order, each once")
            #expect(batches == (300 + limit - 1) / limit + (300 % limit == 0 ? 1 : 0))
            #expect(closed.allSatisfy { $0.deadline == $0.idleSince + (660 - 2 * ($0.idleSince - TestStore.t0) / 1000) * 1000 })
            let ended = try await t.store.sessions(limit: 1000)
            #expect(ended.allSatisfy { $0.endedReason == .idle && $0.endedAt == t.clock.now() && $0.idleDeadlineAt == nil })
            #expect(try await t.store.closeOrphans(now: t.clock.now(), after: .start, limit: 5, dryRun: false).closed.isEmpty)
        }
    }
}

/// Events seen by a callback, and a wait for the ones a test needs (bounded generously: the
/// wait ends at the event, not at the bound).
final class EventBox: Sendable {
    private let events = Mutex<[IdleDeadlineEvent]>([])

    func append(_ event: IdleDeadlineEvent) { events.withLock { $0.append(event) } }

    var all: [IdleDeadlineEvent] { events.withLock { $0 } }

    func wait(until condition: ([IdleDeadlineEvent]) -> Bool) async {
        let start = ContinuousClock.now
        while !events.withLock({ condition($0) }), ContinuousClock.now - start < .seconds(120) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
