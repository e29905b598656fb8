import NIOCore
import PostgresNIO

extension Memory: PostgresRecord {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), agentID: try row.value("agent_id"), sessionID: try row.value("session_id"),
            content: try row.value("content"),
            memoryType: MemoryType(rawValue: try row.value("memory_type")) ?? .episodic,
            importance: try row.value("importance"), baseImportance: try row.value("base_importance"),
            decayRefAt: try row.value("decay_ref_at"), tags: try Self.parseTags(try row.value("tags")),
            metadata: try JSONValue.parse(try row.value("metadata", as: String.self)),
            createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at"),
            lastAccessedAt: try row.value("last_accessed_at"), accessCount: try row.value("access_count"),
            expiresAt: try row.value("expires_at"), archivedAt: try row.value("archived_at"),
            archivedReason: try row.value("archived_reason", as: String?.self).flatMap(ArchivedReason.init(rawValue:)),
            supersededBy: try row.value("superseded_by"))
    }
}

extension PostgresEngine {
    /// Inserts a validated batch in one transaction, or none of it (see `storeMemories`).
    func insertMemories(
        _ batch: [Memory], supersedes: [[String]], vectors: (model: EmbeddingModel, values: [[Float]])?,
        now: UnixMillis, defaultTimeout: Int64
    ) async throws -> (memories: [Memory], sessions: [Session]) {
        try await transaction { connection in
            var sessionIDs: [String] = []
            for (memory, superseded) in zip(batch, supersedes) {
                if let sessionID = memory.sessionID {
                    guard let session = try await Self.fetchSession(connection, id: sessionID, logger: self.logger),
                        session.agentID == memory.agentID
                    else { throw StoreError.sessionNotFound(sessionID) }
                    try await self.recordActivity(
                        connection, sessionID: sessionID, now: now, defaultTimeout: defaultTimeout)
                    if !sessionIDs.contains(sessionID) { sessionIDs.append(sessionID) }
                }
                try await self.insert(memory, on: connection)
                try await self.supersede(superseded, by: memory, now: now, on: connection)
                try await self.supersedeByChange(memory, now: now, on: connection)
            }
            if let vectors {
                for (memory, vector) in zip(batch, vectors.values) {
                    try await self.insertVector(
                        memoryID: memory.id, agentID: memory.agentID, model: vectors.model, vector: vector, now: now,
                        on: connection)
                }
            }
            var sessions: [Session] = []
            for id in sessionIDs {
                if let session = try await Self.fetchSession(connection, id: id, logger: self.logger) {
                    sessions.append(session)
                }
            }
            return (batch, sessions)
        }
    }

    func insert(_ memory: Memory, on connection: PostgresConnection) async throws {
        let inserted = try await connection.query(
            """
            INSERT INTO memories (\(unescaped: Memory.columns)) VALUES (
                \(memory.id), \(memory.agentID), \(memory.sessionID), \(memory.content), \(memory.memoryType.rawValue),
                \(memory.importance), \(memory.baseImportance), \(memory.decayRefAt), \(Memory.tagsText(memory.tags)),
                \(memory.metadata.jsonText()), \(memory.createdAt), \(memory.updatedAt), \(memory.lastAccessedAt),
                \(memory.accessCount), \(memory.expiresAt), \(memory.archivedAt), \(memory.archivedReason?.rawValue),
                \(memory.supersededBy))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger
        ).scalar(String.self)
        guard inserted != nil else { throw StoreError.alreadyExists(kind: "memory", id: memory.id) }
    }

    /// `MemoryStore.supersedeByChange` on PostgreSQL.
    func supersedeByChange(_ memory: Memory, now: UnixMillis, on connection: PostgresConnection) async throws {
        let changes = Supersession.supersededTerms(in: memory.content)
        let words = Supersession.searchWords(changes)
        guard !words.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT id, content FROM memories
            WHERE agent_id = \(memory.agentID) AND content_search @@ to_tsquery('simple', \(Self.tsQuery(words)))
              AND id <> \(memory.id) AND superseded_by IS NULL AND archived_at IS NULL AND created_at <= \(memory.createdAt)
              AND (expires_at IS NULL OR expires_at > \(now))
              AND NOT EXISTS (SELECT 1 FROM consolidation_sources WHERE summary_id = memories.id)
            """, logger: logger)
        var stale: [String] = []
        for try await (id, content) in rows.decode((String, String).self)
        where Supersession.makesStale(changes, content: content) {
            stale.append(id)
        }
        try await supersede(stale, by: memory, now: now, on: connection)
    }

    /// Marks `ids` superseded by `memory`: each must be a visible memory of the same agent.
    func supersede(_ ids: [String], by memory: Memory, now: UnixMillis, on connection: PostgresConnection) async throws {
        for id in ids {
            let missing = StoreError.supersededNotFound(id: id, agentID: memory.agentID)
            guard id != memory.id else { throw missing }
            let marked = try await connection.query(
                """
                UPDATE memories SET superseded_by = \(memory.id), updated_at = \(now)
                WHERE id = \(id) AND agent_id = \(memory.agentID) AND (expires_at IS NULL OR expires_at > \(now))
                RETURNING id
                """, logger: logger
            ).scalar(String.self)
            guard marked != nil else { throw missing }
        }
    }

    func insertVector(
        memoryID: String, agentID: String, model: EmbeddingModel, vector: [Float], now: UnixMillis,
        on connection: PostgresConnection
    ) async throws {
        // Delete, then insert (not an upsert): the delete trigger counts it for the caches.
        try await connection.query("DELETE FROM memory_vectors WHERE memory_id = \(memoryID)", logger: logger)
        try await connection.query(
            """
            INSERT INTO memory_vectors (memory_id, agent_id, model, dimensions, vector, embedded_at)
            VALUES (\(memoryID), \(agentID), \(model.name), \(Int32(model.dimensions)),
                \(ByteBuffer(bytes: VectorCoding.blob(vector))), \(now))
            """, logger: logger)
        try await connection.query("DELETE FROM embed_queue WHERE memory_id = \(memoryID)", logger: logger)
    }

    func memory(id: String, now: UnixMillis) async throws -> Memory? {
        try await autocommit { try await self.fetchVisibleMemory($0, id: id, now: now) }
    }

    func fetchVisibleMemory(_ connection: PostgresConnection, id: String, now: UnixMillis) async throws -> Memory? {
        try await connection.query(
            """
            SELECT \(unescaped: Memory.columns) FROM memories
            WHERE id = \(id) AND (expires_at IS NULL OR expires_at > \(now))
            """, logger: logger
        ).records(Memory.self).first
    }

    func updateMemory(id: String, now: UnixMillis, _ change: @Sendable (Memory) -> Memory) async throws -> Memory {
        try await transaction { connection in
            guard let found = try await self.fetchVisibleMemory(connection, id: id, now: now) else {
                throw StoreError.memoryNotFound(id)
            }
            let memory = change(found)
            try await connection.query(
                """
                UPDATE memories SET content = \(memory.content), importance = \(memory.importance),
                    base_importance = \(memory.baseImportance), decay_ref_at = \(memory.decayRefAt),
                    tags = \(Memory.tagsText(memory.tags)), metadata = \(memory.metadata.jsonText()),
                    memory_type = \(memory.memoryType.rawValue), updated_at = \(now)
                WHERE id = \(id)
                """, logger: self.logger)
            return memory
        }
    }

    func forget(ids: [String], agentID: String?) async throws -> Int {
        try await transaction { connection in
            var count = 0
            for try await _ in try await connection.query(
                """
                DELETE FROM memories WHERE id = ANY(\(ids)) AND agent_id = coalesce(\(agentID), agent_id) RETURNING id
                """, logger: self.logger)
            {
                count += 1
            }
            return count
        }
    }

    func memories(
        agentID: String?, sessionID: String?, includeArchived: Bool, limit: Int, offset: Int, now: UnixMillis
    ) async throws -> [Memory] {
        try await autocommit { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Memory.columns) FROM memories
                WHERE (expires_at IS NULL OR expires_at > \(now))
                  AND (\(agentID)::text IS NULL OR agent_id = \(agentID))
                  AND (\(sessionID)::text IS NULL OR session_id = \(sessionID))
                  AND (\(includeArchived) OR archived_at IS NULL)
                ORDER BY created_at DESC, id LIMIT \(limit) OFFSET \(offset)
                """, logger: self.logger
            ).records(Memory.self)
        }
    }

    func recordAccess(ids: [String], sessionID: String?, now: UnixMillis, defaultTimeout: Int64) async throws {
        try await transaction { connection in
            try await self.markAccessed(ids, now: now, on: connection)
            if let sessionID {
                try await self.recordActivity(connection, sessionID: sessionID, now: now, defaultTimeout: defaultTimeout)
            }
        }
    }

    /// Access reinforcement: accessed now, decay starts over from the base importance.
    func markAccessed(_ ids: [String], now: UnixMillis, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE memories SET access_count = access_count + 1, last_accessed_at = \(now),
                decay_ref_at = \(now), importance = base_importance
            WHERE id = ANY(\(ids)) AND archived_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
            """, logger: logger)
    }
}
