import GRDB

public enum PurgeTarget: Sendable, Equatable {
    /// Memories whose `expires_at` is at or before this instant.
    case expired(UnixMillis)
    /// Archived memories archived at or before this instant.
    case archivedBefore(UnixMillis)
}

public struct PurgeBatch: Sendable {
    public var deleted: [Memory]
    public var deletedCount: Int
    public var next: Cursor?
}

extension MemoryStore {
    /// Deletes up to `limit` memories of `target` in one transaction, committing early once
    /// `bound` says its time is up. `beforeCommit` gets the deleted rows inside the transaction,
    /// so an export that fails (`purge.export_dir`) rolls the deletion back.
    public func purgeBatch(
        target: PurgeTarget, after cursor: Cursor, limit: Int, dryRun: Bool, bound: BatchBound? = nil,
        beforeCommit: (@Sendable ([Memory]) throws -> Void)? = nil
    ) async throws -> PurgeBatch {
        try await transaction(dryRun: dryRun) { db in
            let timeUp = BatchBound.start(bound)
            let (column, index, bound): (String, String, UnixMillis) =
                switch target {
                case .expired(let now): ("expires_at", "memories_by_expiry", now)
                case .archivedBefore(let cutoff): ("archived_at", "memories_archived_by_time", cutoff)
                }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, \(column) AS k\(beforeCommit == nil ? "" : ", " + Memory.columns)
                    FROM memories INDEXED BY \(index)
                    WHERE \(column) IS NOT NULL AND \(column) <= :bound AND (\(column), rowid) > (:key, :rowid)
                    ORDER BY \(column), rowid LIMIT :limit
                    """,
                arguments: ["bound": bound, "key": cursor.key, "rowid": cursor.rowid, "limit": limit])
            let delete = try db.cachedStatement(sql: "DELETE FROM memories WHERE rowid = ?")
            var done = 0
            for row in rows {
                if done > 0, timeUp() { break }
                try delete.execute(arguments: [row["rowid"] as Int64])
                done += 1
            }
            var deleted: [Memory] = []
            if let beforeCommit {
                deleted = try rows.prefix(done).map(Memory.init(row:))
                try beforeCommit(deleted)
            }
            let last = rows.prefix(done).last
            let next = done < rows.count || rows.count == limit ? last.map { Cursor(key: $0["k"], rowid: $0["rowid"]) } : nil
            return PurgeBatch(deleted: deleted, deletedCount: done, next: next)
        }
    }

    /// Deletes up to `limit` webhook receipts received before `cutoff`; a dry run counts them all.
    public func pruneWebhookReceipts(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(
            table: "webhook_receipts", key: "webhook_id", time: "received_at", before: cutoff, limit: limit,
            dryRun: dryRun)
    }

    /// Deletes up to `limit` finished job runs started before `cutoff`; a dry run counts them all.
    public func pruneJobRuns(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(
            table: "job_runs", key: "id", time: "started_at", before: cutoff, limit: limit, dryRun: dryRun,
            extra: "AND status != 'running'")
    }

    /// Deletes up to `limit` kept LLM answers older than `cutoff`; a dry run counts them all.
    public func pruneLLMAnswers(before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        try await prune(
            table: "llm_answers", key: "prompt_key", time: "created_at", before: cutoff, limit: limit, dryRun: dryRun)
    }

    private func prune(
        table: String, key: String, time: String, before cutoff: UnixMillis, limit: Int, dryRun: Bool,
        extra: String = ""
    ) async throws -> Int {
        if dryRun {
            return try await read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(time) < ? \(extra)", arguments: [cutoff])
                    ?? 0
            }
        }
        return try await transaction { db in
            try db.execute(
                sql: """
                    DELETE FROM \(table) WHERE \(key) IN
                        (SELECT \(key) FROM \(table) WHERE \(time) < ? \(extra) ORDER BY \(time) LIMIT ?)
                    """,
                arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    /// After large deletions: hand the WAL back to the database file without waiting for readers,
    /// and return some free pages to the file system.
    public func reclaimSpace(vacuumPages: Int) async throws {
        countAccess()
        return try await pool.writeWithoutTransaction { db in
            _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            _ = try Row.fetchAll(db, sql: "PRAGMA incremental_vacuum(\(vacuumPages))")
        }
    }
}
