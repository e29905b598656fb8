import GRDB

public struct ClosedSession: Sendable, Equatable {
    public var id: String
    public var agentID: String
    public var idleSince: UnixMillis
    public var deadline: UnixMillis
}

public struct OrphanBatch: Sendable {
    public var closed: [ClosedSession]
    /// Where the next batch starts; nil when no due session is left after this one.
    public var next: Cursor?
}

extension MemoryStore {
    /// How many open sessions are past their idle deadline at `now`: what a sweep would end.
    public func sessionsPastDeadline(now: UnixMillis) async throws -> Int {
        if case .postgres(let postgres) = engine { return try await postgres.sessionsPastDeadline(now: now) }
        return try await read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions WHERE idle_deadline_at <= ?", arguments: [now]) ?? 0
        }
    }

    /// Ends up to `limit` open sessions whose idle deadline is at or before `now`, reason `idle`,
    /// `idle_since` = their last activity. A range scan of the deadline index. The transaction
    /// commits early once `bound` says its time is up; the cursor then points past the last
    /// session ended.
    public func closeOrphans(
        now: UnixMillis, after cursor: Cursor, limit: Int, dryRun: Bool, bound: BatchBound? = nil
    ) async throws -> OrphanBatch {
        if case .postgres(let postgres) = engine {
            return try await postgres.closeOrphans(now: now, after: cursor, limit: limit, dryRun: dryRun, bound: bound)
        }
        return try await transaction(dryRun: dryRun) { db in
            let timeUp = BatchBound.start(bound)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, id, agent_id, last_activity_at, idle_deadline_at FROM sessions
                    WHERE idle_deadline_at IS NOT NULL AND idle_deadline_at <= :now
                      AND (idle_deadline_at, rowid) > (:key, :rowid)
                    ORDER BY idle_deadline_at, rowid LIMIT :limit
                    """,
                arguments: ["now": now, "key": cursor.key, "rowid": cursor.rowid, "limit": limit])
            let update = try db.cachedStatement(
                sql: """
                    UPDATE sessions SET ended_at = :now, ended_reason = 'idle', idle_since = last_activity_at,
                        idle_deadline_at = NULL
                    WHERE rowid = :rowid AND ended_at IS NULL
                    """)
            var closed: [ClosedSession] = []
            for row in rows {
                if !closed.isEmpty, timeUp() { break }
                try update.execute(arguments: ["now": now, "rowid": row["rowid"] as Int64])
                closed.append(
                    ClosedSession(
                        id: row["id"], agentID: row["agent_id"], idleSince: row["last_activity_at"],
                        deadline: row["idle_deadline_at"]))
            }
            let next = closed.count < rows.count || rows.count == limit
                ? rows.prefix(closed.count).last.map { Cursor(key: $0["idle_deadline_at"], rowid: $0["rowid"]) } : nil
            return OrphanBatch(closed: closed, next: next)
        }
    }
}
