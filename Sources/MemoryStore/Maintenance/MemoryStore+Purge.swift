import GRDB

public enum PurgeTarget: Sendable, Equatable {
    /// Memories whose `expires_at` is at or before this instant.
    case expired(UnixMillis)
    /// Archived memories archived at or before this instant.
    case archivedBefore(UnixMillis)
}

public struct PurgeBatch: Sendable {
    /// The deleted rows, when an export asked for them.
    public var deleted: [Memory]
    public var deletedCount: Int
    /// How many of the given rowids this transaction went through (a prefix): the rest go in the
    /// next one.
    public var handled: Int
}

/// The memories due for purge found by one pass over an index: their rowids in physical order.
public struct PurgePass: Sendable {
    public var rowids: [Int64]
    /// Where the next pass starts in the index; nil when this pass reached its end.
    public var next: Cursor?
}

/// The bookkeeping tables the purge job trims by age, each by its time column.
enum PrunedTable: Sendable {
    case webhookReceipts, jobRuns, llmAnswers

    var name: String {
        switch self {
        case .webhookReceipts: "webhook_receipts"
        case .jobRuns: "job_runs"
        case .llmAnswers: "llm_answers"
        }
    }

    var key: String {
        switch self {
        case .webhookReceipts: "webhook_id"
        case .jobRuns: "id"
        case .llmAnswers: "prompt_key"
        }
    }

    var time: String {
        switch self {
        case .webhookReceipts: "received_at"
        case .jobRuns: "started_at"
        case .llmAnswers: "created_at"
        }
    }

    /// Rows that must stay whatever their age: a run still going.
    var keep: String {
        switch self {
        case .jobRuns: "AND status <> 'running'"
        case .webhookReceipts, .llmAnswers: ""
        }
    }
}

extension PurgeTarget {
    /// The index in `(column, rowid)` order that finds the target's rows, and its bound.
    var index: (column: String, name: String, bound: UnixMillis) {
        switch self {
        case .expired(let now): ("expires_at", "memories_by_expiry", now)
        case .archivedBefore(let cutoff): ("archived_at", "memories_archived_by_time", cutoff)
        }
    }
}

extension MemoryStore {
    /// Up to `limit` memories of `target`, read from its index alone (no table page), returned
    /// in rowid order so that deleting them walks the table once, front to back. An empty pass
    /// is the cheap check that lets a run with nothing due end at once.
    public func dueForPurge(_ target: PurgeTarget, after cursor: Cursor, limit: Int) async throws -> PurgePass {
        if case .postgres(let postgres) = engine { return try await postgres.dueForPurge(target, after: cursor, limit: limit) }
        return try await read { db in
            let (column, index, bound) = target.index
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, \(column) AS k FROM memories INDEXED BY \(index)
                    WHERE \(column) IS NOT NULL AND \(column) <= :bound AND (\(column), rowid) > (:key, :rowid)
                    ORDER BY \(column), rowid LIMIT :limit
                    """,
                arguments: ["bound": bound, "key": cursor.key, "rowid": cursor.rowid, "limit": limit])
            let next = rows.count == limit ? rows.last.map { Cursor(key: $0["k"], rowid: $0["rowid"]) } : nil
            return PurgePass(rowids: rows.map { $0["rowid"] as Int64 }.sorted(), next: next)
        }
    }

    /// Deletes the memories of `rowids` (in that order) that are still due, in one transaction
    /// that commits early once `bound` says its time is up. `beforeCommit` gets the deleted rows
    /// inside the transaction, so an export that fails (`purge.export_dir`) rolls the deletion
    /// back.
    public func purgeRows(
        _ rowids: ArraySlice<Int64>, target: PurgeTarget, dryRun: Bool, bound: BatchBound? = nil,
        beforeCommit: (@Sendable ([Memory]) throws -> Void)? = nil
    ) async throws -> PurgeBatch {
        if case .postgres(let postgres) = engine {
            return try await postgres.purgeRows(
                rowids, target: target, dryRun: dryRun, bound: bound, beforeCommit: beforeCommit)
        }
        return try await transaction(dryRun: dryRun) { db in
            let timeUp = BatchBound.start(bound)
            let (column, _, limit) = target.index
            // Re-checked: a memory whose TTL moved since the pass stays.
            let due = "rowid = :rowid AND \(column) IS NOT NULL AND \(column) <= :bound"
            let delete = try db.cachedStatement(sql: "DELETE FROM memories WHERE \(due)")
            let fetch = try db.cachedStatement(sql: "SELECT \(Memory.columns) FROM memories WHERE \(due)")
            var deleted: [Memory] = []
            var count = 0
            var handled = 0
            for rowid in rowids {
                if handled > 0, timeUp() { break }
                handled += 1
                let arguments: StatementArguments = ["rowid": rowid, "bound": limit]
                if beforeCommit != nil, let row = try Row.fetchOne(fetch, arguments: arguments) {
                    deleted.append(try Memory(row: row))
                }
                try delete.execute(arguments: arguments)
                count += db.changesCount
            }
            if let beforeCommit { try beforeCommit(deleted) }
            return PurgeBatch(deleted: deleted, deletedCount: count, handled: handled)
        }
    }

    /// Deletes up to `limit` webhook receipts received before `cutoff`; a dry run counts them all.
    public func pruneWebhookReceipts(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(.webhookReceipts, before: cutoff, limit: limit, dryRun: dryRun)
    }

    /// Deletes up to `limit` finished job runs started before `cutoff`; a dry run counts them all.
    public func pruneJobRuns(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(.jobRuns, before: cutoff, limit: limit, dryRun: dryRun)
    }

    /// Deletes up to `limit` kept LLM answers older than `cutoff`; a dry run counts them all.
    public func pruneLLMAnswers(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(.llmAnswers, before: cutoff, limit: limit, dryRun: dryRun)
    }

    private func prune(_ table: PrunedTable, before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        if case .postgres(let postgres) = engine {
            return try await postgres.prune(table, before: cutoff, limit: limit, dryRun: dryRun)
        }
        if dryRun {
            return try await read { db in
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM \(table.name) WHERE \(table.time) < ? \(table.keep)", arguments: [cutoff]
                ) ?? 0
            }
        }
        return try await transaction { db in
            try db.execute(
                sql: """
                    DELETE FROM \(table.name) WHERE \(table.key) IN
                        (SELECT \(table.key) FROM \(table.name) WHERE \(table.time) < ? \(table.keep)
                         ORDER BY \(table.time) LIMIT ?)
                    """,
                arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    /// After large deletions: hand the WAL back to the database file without waiting for readers,
    /// and return some free pages to the file system. PostgreSQL's autovacuum does this itself.
    public func reclaimSpace(vacuumPages: Int) async throws {
        guard case .sqlite(let pool) = engine else { return }
        countAccess()
        return try await pool.writeWithoutTransaction { db in
            _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            _ = try Row.fetchAll(db, sql: "PRAGMA incremental_vacuum(\(vacuumPages))")
        }
    }
}
