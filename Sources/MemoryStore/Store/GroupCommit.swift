import GRDB
import Synchronization

/// Group commit for the hot API writes (heartbeats, stores, recall's access marks): writes that
/// arrive while the writer is busy share its next transaction instead of each paying for a
/// commit. Each write runs in its own savepoint, so its error rolls back that write alone and
/// reaches its caller alone, and every caller is answered only after the transaction holding its
/// write has committed.
///
/// No task of its own: the first writer to find the group idle leads it. It commits everything
/// queued (its own write included), answers the others, and hands the lead to the oldest write
/// still waiting, which then commits everything queued by then, and so on.
final class GroupCommit: Sendable {
    typealias Outcome = Result<any Sendable, any Error>

    enum Turn: Sendable {
        case lead
        case done(Outcome)
    }

    struct Entry: Sendable {
        var id: Int
        var work: @Sendable (Database) throws -> any Sendable
        var continuation: CheckedContinuation<Turn, Never>
    }

    struct State {
        var queue: [Entry] = []
        var leading = false
        var nextID = 0
        var transactions = 0
        var writes = 0
    }

    private let state = Mutex(State())

    /// What group commit did since the store was opened.
    var counts: GroupCommitCounts {
        state.withLock { GroupCommitCounts(writes: $0.writes, transactions: $0.transactions, waiting: $0.queue.count) }
    }

    /// Runs `work` in the next group transaction and returns its result once that transaction
    /// committed. `commit` runs one transaction; inside it, once it holds the writer, it takes
    /// what is queued by then and returns each entry's outcome.
    func write<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        commit: @Sendable (_ take: @escaping @Sendable () -> [Entry]) async -> [(id: Int, outcome: Outcome)]
    ) async throws -> T {
        var id = 0
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = state.withLock { state -> Bool in
                id = state.nextID
                state.nextID += 1
                state.queue.append(Entry(id: id, work: { try work($0) }, continuation: continuation))
                guard !state.leading else { return false }
                state.leading = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        let outcome: Outcome
        switch turn {
        case .done(let done): outcome = done
        case .lead: outcome = await lead(id: id, commit: commit)
        }
        return try outcome.get() as! T
    }

    /// Commits everything queued once the writer is ours, answers the others, passes the lead
    /// on; returns the leader's own outcome.
    private func lead(
        id: Int, commit: @Sendable (_ take: @escaping @Sendable () -> [Entry]) async -> [(id: Int, outcome: Outcome)]
    ) async -> Outcome {
        let taken = Mutex<[Int: Entry]>([:])
        let results = await commit {
            self.state.withLock { state in
                defer { state.queue = [] }
                state.transactions += 1
                state.writes += state.queue.count
                taken.withLock { $0 = Dictionary(uniqueKeysWithValues: state.queue.map { ($0.id, $0) }) }
                return state.queue
            }
        }
        var own: Outcome?
        let entries = taken.withLock { $0 }
        for (entryID, outcome) in results {
            if entryID == id { own = outcome } else { entries[entryID]?.continuation.resume(returning: .done(outcome)) }
        }
        let next = state.withLock { state -> Entry? in
            guard let first = state.queue.first else {
                state.leading = false
                return nil
            }
            return first
        }
        next?.continuation.resume(returning: .lead)
        return own!
    }
}

/// Hot API writes, the group transactions that carried them (their ratio is what group commit
/// saved), and the writes waiting now.
public struct GroupCommitCounts: Sendable, Equatable {
    public var writes: Int
    public var transactions: Int
    public var waiting: Int
}

extension MemoryStore {
    /// A hot API write, in a group transaction with the others that arrive meanwhile. `body` is
    /// its own savepoint: its error is this caller's alone and undoes only its own changes.
    func groupWrite<T: Sendable>(operation: String = #function, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        _ = try sqlitePool(operation)
        return try await group.write(body) { take in
            // Its own task: the leader's cancellation (its client went away) must not interrupt
            // a transaction that carries the other callers' writes. It ends with the commit.
            await Task { await self.commitGroup(take) }.value
        }
    }

    /// One group transaction: each write taken in its own savepoint, its outcome returned.
    private func commitGroup(_ take: @escaping @Sendable () -> [GroupCommit.Entry]) async
        -> [(id: Int, outcome: GroupCommit.Outcome)]
    {
        let taken = Mutex<[GroupCommit.Entry]?>(nil)
        do {
            return try await transaction { db in
                let batch = take()
                taken.withLock { $0 = batch }
                return batch.map { entry -> (id: Int, outcome: GroupCommit.Outcome) in
                    do {
                        var value: (any Sendable)?
                        try db.inSavepoint {
                            value = try entry.work(db)
                            return .commit
                        }
                        return (entry.id, .success(value!))
                    } catch {
                        return (entry.id, .failure(error))
                    }
                }
            }
        } catch {
            // The transaction itself failed (disk full, the lock held past busy_timeout):
            // nothing of it was committed, so every write in it fails.
            return (taken.withLock { $0 } ?? take()).map { ($0.id, .failure(error)) }
        }
    }

    /// What group commit did since the store was opened.
    public var groupCommitCounts: GroupCommitCounts { group.counts }
}
