import NIOCore
import PostgresNIO

extension PostgresEngine {
    func agentsWithUnconsolidatedSessions(after agentID: String?, limit: Int) async throws -> [String] {
        try await autocommit { connection in
            var agents: [String] = []
            for try await agent in try await connection.query(
                """
                SELECT DISTINCT agent_id FROM sessions
                WHERE ended_at IS NOT NULL AND consolidated_at IS NULL AND agent_id > \(agentID ?? "")
                ORDER BY agent_id LIMIT \(limit)
                """, logger: self.logger
            ).decode(String.self) {
                agents.append(agent)
            }
            return agents
        }
    }

    func unconsolidatedSessions(agentIDs: [String], liveCharacters: Bool, now: UnixMillis) async throws
        -> [String: (sessions: [SessionRef], liveCharacters: Int)]
    {
        try await autocommit { connection in
            var result: [String: (sessions: [SessionRef], liveCharacters: Int)] = [:]
            for try await (agent, id, startedAt, endedAt) in try await connection.query(
                """
                SELECT agent_id, id, started_at, ended_at FROM sessions
                WHERE agent_id = ANY(\(agentIDs)) AND ended_at IS NOT NULL AND consolidated_at IS NULL
                ORDER BY agent_id, started_at, id
                """, logger: self.logger
            ).decode((String, String, Int64, Int64).self) {
                result[agent, default: ([], 0)].sessions.append(SessionRef(id: id, startedAt: startedAt, endedAt: endedAt))
            }
            guard liveCharacters else { return result }
            var characters: [String: Int] = [:]
            for try await (agent, sessionID, count) in try await connection.query(
                """
                SELECT sessions.agent_id, memories.session_id, sum(char_length(memories.content))::bigint FROM sessions
                JOIN memories ON memories.session_id = sessions.id
                WHERE sessions.agent_id = ANY(\(agentIDs)) AND sessions.consolidated_at IS NULL
                  AND memories.archived_at IS NULL AND (memories.expires_at IS NULL OR memories.expires_at > \(now))
                GROUP BY sessions.agent_id, memories.session_id
                """, logger: self.logger
            ).decode((String, String, Int64).self) {
                characters[sessionID] = Int(count)
                result[agent, default: ([], 0)].liveCharacters += Int(count)
            }
            return MemoryStore.attach(characters, to: result)
        }
    }

    func consolidationFacts(sessionIDs: [String], model: EmbeddingModel?, now: UnixMillis) async throws
        -> [ConsolidationFact]
    {
        try await facts(model: model, now: now, liveOnly: true) { condition in
            condition.append("memories.session_id = ANY(")
            condition.bind(sessionIDs)
            condition.append(")")
        }
    }

    func changeFacts(agentIDs: [String], words: [String], since: UnixMillis, now: UnixMillis) async throws
        -> [ConsolidationFact]
    {
        try await facts(model: nil, now: now, liveOnly: false) { condition in
            condition.append("memories.agent_id = ANY(")
            condition.bind(agentIDs)
            condition.append(") AND memories.content_search @@ to_tsquery('simple', ")
            condition.bind(Self.tsQuery(words))
            condition.append(") AND memories.created_at > ")
            condition.bind(since)
            condition.append(" AND NOT EXISTS (SELECT 1 FROM consolidation_sources WHERE summary_id = memories.id)")
        }
    }

    /// Facts with their vectors of `model` (none without one), oldest first, of the memories
    /// `condition` appends its test of.
    private func facts(
        model: EmbeddingModel?, now: UnixMillis, liveOnly: Bool, where condition: (inout PostgresStatement) -> Void
    ) async throws -> [ConsolidationFact] {
        var statement = PostgresStatement("WITH chosen AS (SELECT memories.seq FROM memories WHERE ")
        condition(&statement)
        statement.append(
            """
            ) SELECT \(ConsolidationFact.columns), memory_vectors.vector FROM memories
            JOIN chosen ON chosen.seq = memories.seq
            LEFT JOIN memory_vectors ON memory_vectors.memory_id = memories.id AND memory_vectors.model = 
            """)
        statement.bind(model?.name ?? "")
        statement.append(" AND memory_vectors.dimensions = ")
        statement.bind(Int32(model?.dimensions ?? 0))
        statement.append(liveOnly ? " WHERE memories.archived_at IS NULL AND " : " WHERE ")
        statement.append("(memories.expires_at IS NULL OR memories.expires_at > ")
        statement.bind(now)
        statement.append(") ORDER BY memories.created_at, memories.id")
        let query = statement.query
        return try await autocommit { connection in
            var facts: [ConsolidationFact] = []
            for try await row in try await connection.query(query, logger: self.logger) {
                let columns = row.makeRandomAccess()
                let vector = try columns[9].decode(ByteBuffer?.self, context: .default).map { blob in
                    var floats: [Float] = []
                    blob.withUnsafeReadableBytes { VectorCoding.append(blob: $0, to: &floats) }
                    return floats
                }
                var fact = ConsolidationFact(
                    id: try columns[0].decode(String.self), sessionID: try columns[1].decode(String?.self),
                    content: try columns[2].decode(String.self),
                    memoryType: MemoryType(rawValue: try columns[3].decode(String.self)) ?? .episodic,
                    importance: try columns[4].decode(Double.self),
                    tags: try Memory.parseTags(try columns[5].decode(String.self)),
                    createdAt: try columns[6].decode(Int64.self), supersededBy: try columns[7].decode(String?.self),
                    vector: vector)
                fact.agentID = try columns[8].decode(String.self)
                facts.append(fact)
            }
            return facts
        }
    }

    func commitConsolidations(_ commits: [ConsolidationCommit], now: UnixMillis, dryRun: Bool, bound: BatchBound?)
        async throws -> [Bool]
    {
        try await transaction(dryRun: dryRun) { connection in
            let timeUp = BatchBound.start(bound)
            var written: [Bool] = []
            for commit in commits {
                if !written.isEmpty, timeUp() { break }
                written.append(try await self.write(commit, now: now, on: connection))
            }
            return written
        }
    }

    /// One consolidation, all or nothing (see `MemoryStore.write`). Its sessions are locked
    /// first: a node ending or consolidating them meanwhile waits, and then sees them changed.
    private func write(_ commit: ConsolidationCommit, now: UnixMillis, on connection: PostgresConnection) async throws
        -> Bool
    {
        let pending = try await connection.query(
            """
            SELECT count(*) FROM (SELECT id FROM sessions WHERE id = ANY(\(commit.sessionIDs))
                AND ended_at IS NOT NULL AND consolidated_at IS NULL FOR UPDATE) AS locked
            """, logger: logger
        ).scalar(Int64.self) ?? 0
        var current: [String] = []
        for try await id in try await connection.query(
            """
            SELECT id FROM memories WHERE session_id = ANY(\(commit.sessionIDs)) AND archived_at IS NULL
              AND (expires_at IS NULL OR expires_at > \(now)) ORDER BY created_at, id
            """, logger: logger
        ).decode(String.self) {
            current.append(id)
        }
        guard pending == commit.sessionIDs.count, current == commit.sourceIDs else { return false }
        for summary in commit.summaries { try await insert(summary, on: connection) }
        for source in commit.sources {
            try await connection.query(
                """
                INSERT INTO consolidation_sources
                    (source_memory_id, consolidation_id, summary_id, source_session_id, fate, fate_ref)
                VALUES (\(source.sourceMemoryID), \(source.consolidationID), \(source.summaryID),
                    \(source.sourceSessionID), \(source.fate.rawValue), \(source.fateRef))
                """, logger: logger)
        }
        try await connection.query(
            """
            UPDATE memories SET archived_at = \(now), archived_reason = 'consolidated',
                base_importance = importance, decay_ref_at = \(now)
            WHERE id = ANY(\(commit.archivedIDs)) AND archived_at IS NULL
            """, logger: logger)
        try await connection.query(
            """
            UPDATE sessions SET consolidated_at = \(now), consolidated_into = \(commit.consolidationID)
            WHERE id = ANY(\(commit.sessionIDs))
            """, logger: logger)
        return true
    }

    private func sources(_ connection: PostgresConnection, where column: String, is value: String) async throws
        -> [ConsolidationSource]
    {
        var sources: [ConsolidationSource] = []
        for try await (memoryID, consolidationID, summaryID, sessionID, fate, fateRef) in try await connection.query(
            """
            SELECT source_memory_id, consolidation_id, summary_id, source_session_id, fate, fate_ref
            FROM consolidation_sources WHERE \(unescaped: column) = \(value) ORDER BY source_memory_id
            """, logger: logger
        ).decode((String, String, String?, String?, String, String?).self) {
            guard let known = SourceFate(rawValue: fate) else {
                throw StoreError.backend("PostgreSQL: unknown fate \(fate) of source \(memoryID)")
            }
            sources.append(
                ConsolidationSource(
                    sourceMemoryID: memoryID, consolidationID: consolidationID, summaryID: summaryID,
                    sourceSessionID: sessionID, fate: known, fateRef: fateRef))
        }
        return sources
    }

    /// The consolidation an id names: a consolidation id itself, or one of its summaries.
    private func consolidationID(_ connection: PostgresConnection, naming id: String) async throws -> String {
        if try await connection.query(
            "SELECT 1 FROM consolidation_sources WHERE consolidation_id = \(id) LIMIT 1", logger: logger
        ).scalar(Int32.self) != nil {
            return id
        }
        if let consolidation = try await connection.query(
            "SELECT consolidation_id FROM consolidation_sources WHERE summary_id = \(id) LIMIT 1", logger: logger
        ).scalar(String.self) {
            return consolidation
        }
        guard try await connection.query("SELECT 1 FROM memories WHERE id = \(id)", logger: logger).scalar(Int32.self) != nil
        else { throw StoreError.consolidationNotFound(id) }
        throw StoreError.notRestorable(id: id, reason: "it is not a consolidation summary")
    }

    func consolidations(agentID: String?) async throws -> [(id: String, agentID: String)] {
        try await withConnection { connection in
            var result: [(id: String, agentID: String)] = []
            let rows = try await connection.query(
                """
                SELECT consolidated_into, min(agent_id) FROM sessions
                WHERE consolidated_into IS NOT NULL AND (\(agentID)::text IS NULL OR agent_id = \(agentID))
                GROUP BY consolidated_into ORDER BY consolidated_into
                """, logger: self.logger)
            for try await (id, agent) in rows.decode((String, String).self) { result.append((id, agent)) }
            return result
        }
    }

    func restore(id: String, now: UnixMillis) async throws -> RestoreResult {
        try await transaction { connection in
            let consolidationID = try await self.consolidationID(connection, naming: id)
            let sources = try await self.sources(connection, where: "consolidation_id", is: consolidationID)
            let sourceIDs = sources.map(\.sourceMemoryID)
            let present = try await connection.query(
                "SELECT count(*) FROM memories WHERE id = ANY(\(sourceIDs))", logger: self.logger
            ).scalar(Int64.self) ?? 0
            guard present == sources.count else {
                throw StoreError.notRestorable(
                    id: id, reason: "\(sources.count - Int(present)) of its \(sources.count) sources were already purged")
            }
            try await connection.query(
                """
                UPDATE memories SET archived_at = NULL, archived_reason = NULL, importance = base_importance,
                    decay_ref_at = \(now)
                WHERE id = ANY(\(sourceIDs)) AND archived_reason = 'consolidated'
                """, logger: self.logger)
            var sessionIDs: [String] = []
            for try await sessionID in try await connection.query(
                """
                UPDATE sessions SET consolidated_at = NULL, consolidated_into = NULL
                WHERE consolidated_into = \(consolidationID) RETURNING id
                """, logger: self.logger
            ).decode(String.self) {
                sessionIDs.append(sessionID)
            }
            let summaryIDs = Array(Set(sources.compactMap(\.summaryID))).sorted()
            try await connection.query(
                "DELETE FROM consolidation_sources WHERE consolidation_id = \(consolidationID)", logger: self.logger)
            try await connection.query("DELETE FROM memories WHERE id = ANY(\(summaryIDs))", logger: self.logger)
            return RestoreResult(
                consolidationID: consolidationID, summaryIDs: summaryIDs, sessionIDs: sessionIDs.sorted(),
                memoryIDs: sourceIDs)
        }
    }

    /// `MemoryStore.explain` on PostgreSQL, read in one snapshot: a restore running meanwhile
    /// shows whole or not at all.
    func explain(id: String) async throws -> ConsolidationExplanation {
        try await snapshot { connection in
            var sources = try await self.sources(connection, where: "source_memory_id", is: id)
            let consolidationID: String
            if let source = sources.first {
                consolidationID = source.consolidationID
            } else {
                consolidationID = try await self.consolidationID(connection, naming: id)
                let all = try await self.sources(connection, where: "consolidation_id", is: consolidationID)
                sources = consolidationID == id ? all : all.filter { $0.summaryID == id || $0.summaryID == nil }
            }
            var byID: [String: (content: String, importance: Double)] = [:]
            for try await (memoryID, content, importance) in try await connection.query(
                "SELECT id, content, importance FROM memories WHERE id = ANY(\(sources.map(\.sourceMemoryID)))",
                logger: self.logger
            ).decode((String, String, Double).self) {
                byID[memoryID] = (content, importance)
            }
            var summaryIDs: [String] = []
            for try await summaryID in try await connection.query(
                """
                SELECT DISTINCT summary_id FROM consolidation_sources
                WHERE consolidation_id = \(consolidationID) AND summary_id IS NOT NULL ORDER BY summary_id
                """, logger: self.logger
            ).decode(String.self) {
                summaryIDs.append(summaryID)
            }
            return ConsolidationExplanation(
                consolidationID: consolidationID, summaryIDs: summaryIDs,
                entries: MemoryStore.explanationEntries(sources) { byID[$0] })
        }
    }
}
