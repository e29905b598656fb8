import GRDB

public struct AgentSummary: Sendable, Equatable {
    public var agentID: String
    public var memoryCount: Int
    public var sessionCount: Int
    public var activeSessions: Int
}

public struct AgentStats: Sendable, Equatable {
    public var agentID: String
    public var totalMemories: Int
    public var archivedMemories: Int
    public var memoriesByType: [String: Int]
    public var totalSessions: Int
    public var activeSessions: Int
    public var averageImportance: Double?
    public var oldestMemoryAt: UnixMillis?
    public var newestMemoryAt: UnixMillis?
}

extension MemoryStore {
    /// Every agent with memories or sessions, with its live memory and session counts.
    public func agents() async throws -> [AgentSummary] {
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.agents(now: now) }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH ids AS (SELECT agent_id FROM memories UNION SELECT agent_id FROM sessions)
                    SELECT ids.agent_id,
                        (SELECT count(*) FROM memories m WHERE m.agent_id = ids.agent_id AND m.archived_at IS NULL
                            AND (m.expires_at IS NULL OR m.expires_at > :now)) AS memory_count,
                        (SELECT count(*) FROM sessions s WHERE s.agent_id = ids.agent_id) AS session_count,
                        (SELECT count(*) FROM sessions s WHERE s.agent_id = ids.agent_id AND s.ended_at IS NULL)
                            AS active_sessions
                    FROM ids ORDER BY ids.agent_id
                    """,
                arguments: ["now": now]
            ).map {
                AgentSummary(
                    agentID: $0["agent_id"], memoryCount: $0["memory_count"], sessionCount: $0["session_count"],
                    activeSessions: $0["active_sessions"])
            }
        }
    }

    /// One agent's figures; nil when the store knows nothing of it.
    public func agentStats(agentID: String) async throws -> AgentStats? {
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.agentStats(agentID: agentID, now: now) }
        return try await read { db in
            let arguments: StatementArguments = ["agent": agentID, "now": now]
            let memories = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) FILTER (WHERE archived_at IS NULL) AS live,
                        count(*) FILTER (WHERE archived_at IS NOT NULL) AS archived,
                        avg(importance) FILTER (WHERE archived_at IS NULL) AS average,
                        min(created_at) AS oldest, max(created_at) AS newest
                    FROM memories WHERE agent_id = :agent AND \(visibleMemory)
                    """,
                arguments: arguments)!
            let sessions = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) AS total, count(*) FILTER (WHERE ended_at IS NULL) AS active
                    FROM sessions WHERE agent_id = :agent
                    """,
                arguments: ["agent": agentID])!
            let live: Int = memories["live"]
            let archived: Int = memories["archived"]
            let totalSessions: Int = sessions["total"]
            guard live + archived + totalSessions > 0 else { return nil }
            var byType: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT memory_type, count(*) AS n FROM memories
                    WHERE agent_id = :agent AND archived_at IS NULL AND \(visibleMemory) GROUP BY memory_type
                    """,
                arguments: arguments)
            {
                byType[row["memory_type"]] = row["n"]
            }
            return AgentStats(
                agentID: agentID, totalMemories: live, archivedMemories: archived, memoriesByType: byType,
                totalSessions: totalSessions, activeSessions: sessions["active"], averageImportance: memories["average"],
                oldestMemoryAt: memories["oldest"], newestMemoryAt: memories["newest"])
        }
    }

    /// Live, visible memories per session.
    public func memoryCounts(sessionIDs: [String]) async throws -> [String: Int] {
        guard !sessionIDs.isEmpty else { return [:] }
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.memoryCounts(sessionIDs: sessionIDs, now: now) }
        return try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT session_id, count(*) AS n FROM memories
                    WHERE session_id IN (SELECT value FROM json_each(:ids)) AND archived_at IS NULL AND \(visibleMemory)
                    GROUP BY session_id
                    """,
                arguments: ["ids": Memory.tagsText(sessionIDs), "now": now])
            {
                counts[row["session_id"]] = row["n"]
            }
            return counts
        }
    }

    /// Ends a session for a signed webhook or a beacon. A `webhookID` seen before is answered
    /// as a duplicate without acting; it is recorded in the same transaction, so it survives a
    /// restart and an unknown session records nothing.
    public func endSessionByWebhook(id: String, webhookID: String?) async throws -> (session: Session, duplicate: Bool) {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.endSessionByWebhook(id: id, webhookID: webhookID, now: now)
        }
        return try await transaction { db in
            guard try Self.fetchSession(db, id: id) != nil else { throw StoreError.sessionNotFound(id) }
            if let webhookID {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO webhook_receipts (webhook_id, received_at) VALUES (?, ?)",
                    arguments: [webhookID, now])
                if db.changesCount == 0 { return (try Self.fetchSession(db, id: id)!, true) }
            }
            try db.execute(
                sql: """
                    UPDATE sessions SET ended_at = ?, ended_reason = 'webhook', idle_deadline_at = NULL
                    WHERE id = ? AND ended_at IS NULL
                    """,
                arguments: [now, id])
            return (try Self.fetchSession(db, id: id)!, false)
        }
    }
}
