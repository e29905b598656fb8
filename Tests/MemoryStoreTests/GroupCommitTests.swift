import Foundation
import GRDB
import MemoryStore
import TestSupport
import Testing

/// Group commit of the hot API writes, on a real store: while another connection holds the
/// write lock, heartbeats, stores and access marks queue, and once it lets go they commit in one
/// transaction, each with its own answer and its own error.
@Suite struct GroupCommitTests {
    /// Holds the store file's write lock from another connection until `release`.
    final class LockHolder: Sendable {
        let queue: DatabaseQueue
        init(path: String) throws {
            var configuration = Configuration()
            // The point is a transaction left open between two accesses.
            configuration.allowsUnsafeTransactions = true
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
        }
        func release() throws { try queue.writeWithoutTransaction { try $0.execute(sql: "COMMIT") } }
    }

    static func waitUntil(_ t: TestStore, waiting count: Int) async throws {
        while t.store.groupCommitCounts.waiting < count { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func writesArrivingWhileTheWriterIsBusyShareOneTransactionEachWithItsOwnAnswer() async throws {
        let t = try TestStore()
        var sessions: [Session] = []
        for index in 0..<8 { sessions.append(try await t.store.startSession(SessionStart(agentID: "a\(index)"))) }
        let before = t.store.groupCommitCounts
        t.clock.advance(seconds: 60)
        let lock = try LockHolder(path: t.store.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for session in sessions {
                group.addTask {
                    let touched = try await t.store.touchSession(id: session.id)
                    #expect(touched.lastActivityAt == TestStore.t0 + 60_000)
                }
                group.addTask {
                    let stored = try await t.store.storeMemory(
                        NewMemory(agentID: session.agentID, sessionID: session.id, content: "fact of \(session.id)"))
                    #expect(stored.sessionID == session.id)
                }
            }
            try await Self.waitUntil(t, waiting: 16)
            try lock.release()
            try await group.waitForAll()
        }
        let after = t.store.groupCommitCounts
        #expect(after.writes - before.writes == 16)
        #expect(after.transactions - before.transactions == 1, "all sixteen in one commit")
        for session in sessions {
            #expect(try await t.store.memories(agentID: session.agentID, limit: 10).count == 1)
            #expect(try await t.store.session(id: session.id)?.lastActivityAt == TestStore.t0 + 60_000)
        }
    }

    @Test func aFailingWriteFailsAloneAndUndoesOnlyItsOwnChanges() async throws {
        let t = try TestStore()
        let session = try await t.store.startSession(SessionStart(agentID: "a1"))
        let existing = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "already here"))
        let lock = try LockHolder(path: t.store.path)
        let before = t.store.groupCommitCounts
        async let good = t.store.storeMemory(NewMemory(agentID: "a1", sessionID: session.id, content: "a new fact"))
        async let unknown = outcome { try await t.store.touchSession(id: "no-such-session") }
        // A batch of two: the session's activity moves, then the duplicate id fails the write.
        async let duplicate = outcome {
            try await t.store.storeMemories([
                NewMemory(agentID: "a1", sessionID: session.id, content: "first of two"),
                NewMemory(id: existing.id, agentID: "a1", content: "a duplicate id"),
            ])
        }
        try await Self.waitUntil(t, waiting: 3)
        try lock.release()
        #expect(try await good.content == "a new fact")
        let (touchFailure, storeFailure) = await (unknown, duplicate)
        #expect(throws: StoreError.sessionNotFound("no-such-session")) { try touchFailure.get() }
        #expect(throws: StoreError.self) { try storeFailure.get() }
        #expect(t.store.groupCommitCounts.transactions - before.transactions == 1)
        let contents = Set(try await t.store.memories(agentID: "a1", limit: 10).map(\.content))
        #expect(contents == ["already here", "a new fact"], "the failed batch left nothing behind")
    }
}

func outcome<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
