import PostgresNIO

extension PostgresEngine {
    /// `MemoryStore.contextMaterial` on PostgreSQL, read in one repeatable-read snapshot.
    func contextMaterial(
        _ query: RecallQuery, weights: RecallWeights, summaryLimit: Int, now: UnixMillis, vectors: VectorCache,
        lexical: LexicalCache
    ) async throws -> ContextMaterial {
        try await snapshot { connection in
            if let sessionID = query.sessionID {
                guard let session = try await Self.fetchSession(connection, id: sessionID, logger: self.logger),
                    session.agentID == query.agentID
                else { throw StoreError.sessionNotFound(sessionID) }
            }
            var factQuery = query
            factQuery.sessionID = nil
            let facts: [Memory]
            if query.query.isEmpty && query.embedding == nil {
                var statement = PostgresStatement("SELECT \(Memory.columns) FROM memories WHERE ")
                Self.recallFilter(factQuery, now: now, into: &statement)
                statement.append(" AND NOT \(Self.isSummary) ORDER BY importance DESC, created_at DESC, id LIMIT ")
                statement.bind(factQuery.topK)
                facts = try await connection.query(statement.query, logger: self.logger).records(Memory.self)
            } else {
                facts = try await self.rank(
                    connection, query: factQuery, weights: weights, now: now, vectors: vectors, lexical: lexical)
                    .hits.map(\.memory).filter { !$0.tags.contains(Memory.summaryTag) }
            }
            var statement = PostgresStatement("SELECT \(Memory.columns) FROM memories WHERE ")
            Self.recallFilter(RecallQuery.summaries(of: query.agentID), now: now, into: &statement)
            statement.append(
                " AND \(Self.isSummary) ORDER BY memories.metadata::json->>'period_end' DESC NULLS LAST, created_at DESC, id LIMIT ")
            statement.bind(summaryLimit)
            let summaries = try await connection.query(statement.query, logger: self.logger).records(Memory.self)
            var superseded: [String: Set<String>] = [:]
            for try await (summaryID, content) in try await connection.query(
                """
                SELECT s.summary_id, m.content FROM consolidation_sources s JOIN memories m ON m.id = s.source_memory_id
                WHERE s.summary_id = ANY(\(summaries.map(\.id))) AND m.superseded_by IS NOT NULL
                """, logger: self.logger
            ).decode((String, String).self) {
                superseded[summaryID, default: []].insert(content)
            }
            return ContextMaterial(facts: facts, summaries: summaries, supersededSources: superseded)
        }
    }

    func recordContextUse(ids: [String], sessionID: String?, now: UnixMillis, defaultTimeout: Int64) async throws
        -> Session?
    {
        try await transaction { connection in
            try await self.markAccessed(ids, now: now, on: connection)
            guard let sessionID else { return nil }
            try await self.recordActivity(connection, sessionID: sessionID, now: now, defaultTimeout: defaultTimeout)
            return try await Self.fetchSession(connection, id: sessionID, logger: self.logger)
        }
    }

    /// Whether a row is a consolidation summary (its tags hold `historical-summary`).
    static let isSummary =
        "EXISTS (SELECT 1 FROM json_array_elements_text(memories.tags::json) AS tag WHERE tag = '\(Memory.summaryTag)')"
}
