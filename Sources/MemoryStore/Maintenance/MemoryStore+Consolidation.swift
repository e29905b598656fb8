import GRDB

/// An ended, unconsolidated session as the consolidation planner sees it.
public struct SessionRef: Sendable, Equatable {
    public var id: String
    public var startedAt: UnixMillis
    public var endedAt: UnixMillis

    public init(id: String, startedAt: UnixMillis, endedAt: UnixMillis) {
        self.id = id
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// One consolidation, decided outside the store, written in one transaction.
public struct ConsolidationCommit: Sendable {
    public var sessionIDs: [String]
    /// The sources as they were read; the commit is refused if they changed since.
    public var sources: [Memory]
    /// nil when the sessions hold no live memory: they are only marked consolidated.
    public var summary: Memory?

    public init(sessionIDs: [String], sources: [Memory], summary: Memory?) {
        self.sessionIDs = sessionIDs
        self.sources = sources
        self.summary = summary
    }
}

public struct RestoreResult: Sendable, Equatable {
    public var sessionIDs: [String]
    public var memoryIDs: [String]
}

extension MemoryStore {
    /// Agents that have ended, unconsolidated sessions, in id order, paged.
    public func agentsWithUnconsolidatedSessions(after agentID: String?, limit: Int) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT agent_id FROM sessions INDEXED BY sessions_unconsolidated
                    WHERE ended_at IS NOT NULL AND consolidated_at IS NULL AND agent_id > ?
                    ORDER BY agent_id LIMIT ?
                    """,
                arguments: [agentID ?? "", limit])
        }
    }

    public func unconsolidatedSessions(agentID: String) async throws -> [SessionRef] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, started_at, ended_at FROM sessions INDEXED BY sessions_unconsolidated
                    WHERE agent_id = ? AND ended_at IS NOT NULL AND consolidated_at IS NULL
                    ORDER BY started_at, id
                    """,
                arguments: [agentID]
            ).map { SessionRef(id: $0["id"], startedAt: $0["started_at"], endedAt: $0["ended_at"]) }
        }
    }

    /// The live (visible, not archived) memories of the given sessions, oldest first.
    public func consolidationSources(sessionIDs: [String], now: UnixMillis) async throws -> [Memory] {
        try await read { db in try Self.fetchSources(db, sessionIDs: sessionIDs, now: now) }
    }

    static func fetchSources(_ db: Database, sessionIDs: [String], now: UnixMillis) throws -> [Memory] {
        var arguments = StatementArguments(["now": now])
        var placeholders: [String] = []
        for (index, id) in sessionIDs.enumerated() {
            placeholders.append(":s\(index)")
            arguments += StatementArguments(["s\(index)": id])
        }
        return try Memory.fetchAll(
            db,
            sql: """
                SELECT \(Memory.columns) FROM memories
                WHERE session_id IN (\(placeholders.joined(separator: ", "))) AND archived_at IS NULL
                  AND \(visibleMemory)
                ORDER BY created_at, id
                """,
            arguments: arguments)
    }

    /// Writes a consolidation: summary, provenance, archived sources and consolidated sessions,
    /// all or nothing. Returns false (and writes nothing) when another writer changed the
    /// sessions or their memories since they were read; the next run picks them up again.
    public func commitConsolidation(_ commit: ConsolidationCommit, now: UnixMillis, dryRun: Bool) async throws -> Bool {
        try await transaction(dryRun: dryRun) { db in
            let sessionsStillPending = try commit.sessionIDs.allSatisfy { id in
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM sessions WHERE id = ? AND ended_at IS NOT NULL AND consolidated_at IS NULL",
                    arguments: [id]) == true
            }
            let current = try Self.fetchSources(db, sessionIDs: commit.sessionIDs, now: now)
            guard sessionsStillPending, current.map(\.id) == commit.sources.map(\.id) else { return false }

            if let summary = commit.summary {
                try summary.insert(db)
                let provenance = try db.cachedStatement(
                    sql: "INSERT INTO summary_sources (summary_id, source_memory_id, source_session_id) VALUES (?, ?, ?)")
                let archive = try db.cachedStatement(
                    sql: """
                        UPDATE memories SET archived_at = ?, archived_reason = 'consolidated',
                            base_importance = importance, decay_ref_at = ?
                        WHERE id = ? AND archived_at IS NULL
                        """)
                for source in commit.sources {
                    try provenance.execute(arguments: [summary.id, source.id, source.sessionID])
                    try archive.execute(arguments: [now, now, source.id])
                }
            }
            let mark = try db.cachedStatement(
                sql: "UPDATE sessions SET consolidated_at = ?, consolidated_into = ? WHERE id = ?")
            for id in commit.sessionIDs {
                try mark.execute(arguments: [now, commit.summary?.id, id])
            }
            return true
        }
    }

    /// Undoes a consolidation: the sources come back live with the importance they had when
    /// archived, the sessions become unconsolidated, the summary and its provenance go.
    public func restoreSummary(id: String) async throws -> RestoreResult {
        let now = clock.now()
        return try await transaction { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM memories WHERE id = ?", arguments: [id]) == true else {
                throw StoreError.memoryNotFound(id)
            }
            let sourceIDs = try String.fetchAll(
                db, sql: "SELECT source_memory_id FROM summary_sources WHERE summary_id = ? ORDER BY source_memory_id",
                arguments: [id])
            guard !sourceIDs.isEmpty else {
                throw StoreError.notRestorable(id: id, reason: "it is not a consolidation summary")
            }
            let present = try String.fetchAll(
                db,
                sql: """
                    SELECT m.id FROM summary_sources s JOIN memories m ON m.id = s.source_memory_id
                    WHERE s.summary_id = ? ORDER BY m.id
                    """,
                arguments: [id])
            guard present.count == sourceIDs.count else {
                throw StoreError.notRestorable(
                    id: id,
                    reason: "\(sourceIDs.count - present.count) of its \(sourceIDs.count) sources were already purged")
            }
            try db.execute(
                sql: """
                    UPDATE memories SET archived_at = NULL, archived_reason = NULL, importance = base_importance,
                        decay_ref_at = ?
                    WHERE id IN (SELECT source_memory_id FROM summary_sources WHERE summary_id = ?)
                      AND archived_reason = 'consolidated'
                    """,
                arguments: [now, id])
            let sessionIDs = try String.fetchAll(
                db, sql: "SELECT id FROM sessions WHERE consolidated_into = ? ORDER BY id", arguments: [id])
            try db.execute(
                sql: "UPDATE sessions SET consolidated_at = NULL, consolidated_into = NULL WHERE consolidated_into = ?",
                arguments: [id])
            try db.execute(sql: "DELETE FROM summary_sources WHERE summary_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM memories WHERE id = ?", arguments: [id])
            return RestoreResult(sessionIDs: sessionIDs, memoryIDs: sourceIDs)
        }
    }
}
