import NIOCore
import PostgresNIO

extension MemoryStore.Candidate: PostgresRecord {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), importance: try row.value("importance"), createdAt: try row.value("created_at"),
            superseded: try row.value("superseded"), sessionID: try row.value("session_id"))
    }

    static let postgresColumns =
        "memories.id, memories.importance, memories.created_at, memories.superseded_by IS NOT NULL AS superseded, memories.session_id"
}

extension PostgresEngine {
    /// Recall on PostgreSQL: the same candidates and decision as on SQLite (`MemoryStore.rank`),
    /// read in one snapshot so that a memory embedded meanwhile is ranked once; then the access marks and the session's activity in one short
    /// transaction.
    func recall(
        _ query: RecallQuery, weights: RecallWeights, now: UnixMillis, vectors: VectorCache, lexical: LexicalCache,
        defaultTimeout: Int64
    ) async throws -> (hits: [RecallHit], session: Session?, supersededHidden: Int) {
        let ranked = try await snapshot { connection in
            if let sessionID = query.sessionID {
                guard let session = try await Self.fetchSession(connection, id: sessionID, logger: self.logger),
                    session.agentID == query.agentID
                else { throw StoreError.sessionNotFound(sessionID) }
            }
            return try await self.rank(
                connection, query: query, weights: weights, now: now, vectors: vectors, lexical: lexical)
        }
        return try await transaction { connection in
            try await self.markAccessed(ranked.hits.map(\.memory.id), now: now, on: connection)
            var session: Session?
            if let sessionID = query.sessionID {
                try await self.recordActivity(connection, sessionID: sessionID, now: now, defaultTimeout: defaultTimeout)
                session = try await Self.fetchSession(connection, id: sessionID, logger: self.logger)
            }
            return (MemoryStore.accessed(ranked.hits, now: now), session, ranked.supersededHidden)
        }
    }

    /// The ranking of one recall, best first, at most `topK` (see `MemoryStore.rank`).
    func rank(
        _ connection: PostgresConnection, query: RecallQuery, weights: RecallWeights, now: UnixMillis,
        vectors: VectorCache, lexical: LexicalCache
    ) async throws -> (hits: [RecallHit], supersededHidden: Int) {
        var snapshot: VectorCache.Snapshot?
        if let embedding = query.embedding {
            snapshot = try await vectorSnapshot(connection, agent: query.agentID, model: embedding.model, cache: vectors)
        }
        let signals = MemoryStore.RecallSignals(
            query: query, vectors: snapshot,
            lexicalIndex: try await lexicalIndex(connection, agent: query.agentID, cache: lexical))
        var ranking = query
        ranking.includeSuperseded = true
        var search = MemoryStore.CandidateSearch(query: query, signals: signals)
        while let ids = search.next() {
            var statement = PostgresStatement(
                "SELECT \(MemoryStore.Candidate.postgresColumns) FROM memories WHERE memories.id = ANY(")
            statement.bind(ids)
            statement.append(") AND ")
            Self.recallFilter(ranking, now: now, into: &statement)
            search.received(try await connection.query(statement.query, logger: logger).records(MemoryStore.Candidate.self))
        }
        var (winners, supersededHidden) = MemoryStore.choose(
            search.candidates, query: query, signals: signals, weights: weights, now: now)
        if winners.count < query.topK {
            var statement = PostgresStatement(
                "SELECT \(MemoryStore.Candidate.postgresColumns) FROM memories WHERE NOT (memories.id = ANY(")
            statement.bind(winners.map(\.candidate.id))
            statement.append(")) AND ")
            Self.recallFilter(query, now: now, into: &statement)
            statement.append(" ORDER BY memories.importance DESC, memories.created_at DESC, memories.id LIMIT ")
            statement.bind(query.topK - winners.count)
            winners += MemoryStore.followers(
                try await connection.query(statement.query, logger: logger).records(MemoryStore.Candidate.self),
                weights: weights, now: now)
        }
        let memories = try await connection.query(
            "SELECT \(unescaped: Memory.columns) FROM memories WHERE id = ANY(\(winners.map(\.candidate.id)))",
            logger: logger
        ).records(Memory.self)
        return (MemoryStore.hits(winners, memories: memories), supersededHidden)
    }

    /// The agent's current full-text index, read through the cache.
    func lexicalIndex(_ connection: PostgresConnection, agent: String, cache: LexicalCache) async throws
        -> LexicalCache.Index
    {
        let generation = try await connection.query(
            "SELECT inserted, deleted FROM memory_generations WHERE agent_id = \(agent)", logger: logger
        ).decode((Int64, Int64).self).first { _ in true }
        return try await cache.cache.read(agent, inserted: generation?.0 ?? 0, deleted: generation?.1 ?? 0) { loading in
            for try await (seq, memoryID, content) in try await connection.query(
                "SELECT seq, id, content FROM memories WHERE agent_id = \(agent) AND seq > \(loading.maxRowID) ORDER BY seq",
                logger: logger
            ).decode((Int64, String, String).self) {
                loading.rows.add(memoryID: memoryID, content: content)
                loading.read(rowID: seq)
            }
        }
    }

    /// An OR of the words as a `tsquery`, each quoted as one lexeme.
    static func tsQuery(_ words: [String]) -> String {
        words.map { word in
            "'" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
        }.joined(separator: " | ")
    }

    /// The conditions every recall applies (`MemoryStore.recallFilter` on SQLite).
    static func recallFilter(_ query: RecallQuery, now: UnixMillis, into statement: inout PostgresStatement) {
        statement.append("memories.agent_id = ")
        statement.bind(query.agentID)
        statement.append(" AND (memories.expires_at IS NULL OR memories.expires_at > ")
        statement.bind(now)
        statement.append(")")
        if !query.includeArchived { statement.append(" AND memories.archived_at IS NULL") }
        if !query.includeSuperseded { statement.append(" AND memories.superseded_by IS NULL") }
        if !query.asksForSummaries { statement.append(" AND NOT \(Self.isSummary)") }
        if let minImportance = query.minImportance {
            statement.append(" AND memories.importance >= ")
            statement.bind(minImportance)
        }
        if let type = query.memoryType {
            statement.append(" AND memories.memory_type = ")
            statement.bind(type.rawValue)
        }
        if let tags = query.tags, !tags.isEmpty {
            statement.append(" AND EXISTS (SELECT 1 FROM json_array_elements_text(memories.tags::json) AS tag WHERE tag = ANY(")
            statement.bind(tags)
            statement.append("))")
        }
        if let sessionID = query.sessionID {
            statement.append(" AND memories.session_id = ")
            statement.bind(sessionID)
        }
        if let since = query.since {
            statement.append(" AND memories.created_at >= ")
            statement.bind(since)
        }
        if let until = query.until {
            statement.append(" AND memories.created_at <= ")
            statement.bind(until)
        }
    }

    /// The agent's current vectors of `model`, read through the cache.
    func vectorSnapshot(
        _ connection: PostgresConnection, agent: String, model: EmbeddingModel, cache: VectorCache
    ) async throws -> VectorCache.Snapshot {
        let generation = try await connection.query(
            "SELECT inserted, deleted FROM vector_generations WHERE agent_id = \(agent)", logger: logger
        ).decode((Int64, Int64).self).first { _ in true }
        return try await cache.cache.read(
            VectorCache.Key(agent: agent, model: model), inserted: generation?.0 ?? 0, deleted: generation?.1 ?? 0
        ) { loading in
            for try await (seq, memoryID, vector) in try await connection.query(
                """
                SELECT seq, memory_id, vector FROM memory_vectors
                WHERE agent_id = \(agent) AND model = \(model.name) AND dimensions = \(Int32(model.dimensions))
                  AND seq > \(loading.maxRowID)
                ORDER BY seq
                """, logger: logger
            ).decode((Int64, String, ByteBuffer).self) {
                vector.withUnsafeReadableBytes { loading.rows.add(memoryID: memoryID, vector: $0) }
                loading.read(rowID: seq)
            }
        }
    }

    func filteredMemories(
        agentID: String, query: RecallQuery, maxImportance: Double?, limit: Int, now: UnixMillis
    ) async throws -> (memories: [Memory], total: Int, filtered: Int) {
        try await snapshot { connection in
            let total = try await connection.query(
                """
                SELECT count(*) FROM memories WHERE agent_id = \(agentID) AND archived_at IS NULL
                    AND (expires_at IS NULL OR expires_at > \(now))
                """, logger: self.logger
            ).scalar(Int64.self) ?? 0
            func filtered(_ head: String) -> PostgresStatement {
                var statement = PostgresStatement(head)
                Self.recallFilter(query, now: now, into: &statement)
                if let maxImportance {
                    statement.append(" AND memories.importance <= ")
                    statement.bind(maxImportance)
                }
                return statement
            }
            let count = try await connection.query(
                filtered("SELECT count(*) FROM memories WHERE ").query, logger: self.logger
            ).scalar(Int64.self) ?? 0
            var page = filtered("SELECT \(Memory.columns) FROM memories WHERE ")
            page.append(" ORDER BY created_at DESC, id LIMIT ")
            page.bind(limit)
            let memories = try await connection.query(page.query, logger: self.logger).records(Memory.self)
            return (memories, Int(total), Int(count))
        }
    }
}
