import GRDB

public struct NewMemory: Sendable {
    public var id: String?
    public var agentID: String
    public var sessionID: String?
    public var content: String
    public var memoryType: String
    public var importance: Double
    public var tags: [String]
    public var metadata: JSONValue
    public var ttlSeconds: Int64?
    /// An explicit expiry wins over `ttlSeconds`.
    public var expiresAt: UnixMillis?
    /// Memories of the same agent this one replaces: marked `superseded_by` it at once.
    public var supersedes: [String]
    /// When it was said, for agents that file history late; nil: now. Decay and a `ttl_seconds`
    /// still count from when it is stored.
    public var createdAt: UnixMillis?

    public init(
        id: String? = nil, agentID: String, sessionID: String? = nil, content: String,
        memoryType: String = MemoryType.episodic.rawValue, importance: Double = 0.5, tags: [String] = [],
        metadata: JSONValue = .emptyObject, ttlSeconds: Int64? = nil, expiresAt: UnixMillis? = nil,
        supersedes: [String] = [], createdAt: UnixMillis? = nil
    ) {
        self.supersedes = supersedes
        self.createdAt = createdAt
        self.id = id
        self.agentID = agentID
        self.sessionID = sessionID
        self.content = content
        self.memoryType = memoryType
        self.importance = importance
        self.tags = tags
        self.metadata = metadata
        self.ttlSeconds = ttlSeconds
        self.expiresAt = expiresAt
    }
}

public struct MemoryUpdate: Sendable {
    public var content: String?
    public var importance: Double?
    public var tags: [String]?
    public var metadata: JSONValue?
    public var memoryType: String?

    public init(
        content: String? = nil, importance: Double? = nil, tags: [String]? = nil, metadata: JSONValue? = nil,
        memoryType: String? = nil
    ) {
        self.content = content
        self.importance = importance
        self.tags = tags
        self.metadata = metadata
        self.memoryType = memoryType
    }
}

/// The visibility rule every read applies: an expired memory is gone from the instant it expires.
let visibleMemory = "(expires_at IS NULL OR expires_at > :now)"

extension MemoryStore {
    public func storeMemory(_ new: NewMemory) async throws -> Memory {
        try await storeMemories([new]).memories[0]
    }

    /// Stores all of `news` in one transaction, or none: every item is validated first, and a
    /// missing session or a taken id rolls the whole batch back. Returns the memories and the
    /// sessions they went into, as that transaction left them (with their moved deadlines).
    /// `vectors` (one per memory, computed before) are stored in the same transaction, so a
    /// memory stored with its vector is recalled by meaning at once.
    public func storeMemories(
        _ news: [NewMemory], vectors: (model: EmbeddingModel, values: [[Float]])? = nil
    ) async throws -> (memories: [Memory], sessions: [Session]) {
        if let vectors {
            guard vectors.values.count == news.count, vectors.values.allSatisfy({ $0.count == vectors.model.dimensions }) else {
                throw StoreError.invalidArgument(field: "vectors", reason: "must be one of \(vectors.model.dimensions) values per memory")
            }
        }
        let now = clock.now()
        var memories: [Memory] = []
        for (index, new) in news.enumerated() {
            do {
                memories.append(try Self.validated(new, now: now))
                try Validation.supersedes(new.supersedes)
            } catch {
                guard news.count > 1, case .invalidArgument(let field, let reason) = error else { throw error }
                throw StoreError.invalidArgument(field: "memories[\(index)].\(field)", reason: reason)
            }
        }
        let batch = memories
        if case .postgres(let postgres) = engine {
            return try await postgres.insertMemories(
                batch, supersedes: news.map(\.supersedes), vectors: vectors, now: now,
                defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        return try await groupWrite { db in
            var sessionIDs: [String] = []
            for (memory, new) in zip(batch, news) {
                if let sessionID = memory.sessionID {
                    guard let session = try Self.fetchSession(db, id: sessionID), session.agentID == memory.agentID else {
                        throw StoreError.sessionNotFound(sessionID)
                    }
                    try self.recordActivity(db, sessionID: sessionID, now: now)
                    if !sessionIDs.contains(sessionID) { sessionIDs.append(sessionID) }
                }
                if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM memories WHERE id = ?"), arguments: [memory.id]) == true {
                    throw StoreError.alreadyExists(kind: "memory", id: memory.id)
                }
                try memory.insert(db)
                try Self.supersede(db, ids: new.supersedes, by: memory, now: now)
                try Self.supersedeByChange(db, memory, now: now)
            }
            if let vectors {
                for (memory, vector) in zip(batch, vectors.values) {
                    try Self.insertVector(db, memoryID: memory.id, agentID: memory.agentID, model: vectors.model, vector: vector, now: now)
                }
            }
            return (batch, try sessionIDs.compactMap { try Self.fetchSession(db, id: $0) })
        }
    }

    /// Marks `ids` superseded by `memory`: each must be a visible memory of the same agent.
    static func supersede(_ db: Database, ids: [String], by memory: Memory, now: UnixMillis) throws {
        guard !ids.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                UPDATE memories SET superseded_by = :by, updated_at = :now
                WHERE id = :id AND agent_id = :agent AND \(visibleMemory)
                """)
        for id in ids {
            let missing = StoreError.supersededNotFound(id: id, agentID: memory.agentID)
            // Its own id is not among the memories that existed before it.
            guard id != memory.id else { throw missing }
            try statement.execute(arguments: ["by": memory.id, "now": now, "id": id, "agent": memory.agentID])
            guard db.changesCount == 1 else { throw missing }
        }
    }

    /// A stored change statement ("the team rewrote the services from Python to Go") marks the
    /// agent's earlier live facts it makes stale (`Supersession`) superseded by it at once:
    /// recall hides them from then on, not only after the next consolidation. Summaries are left
    /// alone: they restate many facts, and the context block drops their stale lines itself.
    static func supersedeByChange(_ db: Database, _ memory: Memory, now: UnixMillis) throws {
        let changes = Supersession.supersededTerms(in: memory.content)
        let words = Supersession.searchWords(changes)
        guard !words.isEmpty else { return }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, content FROM memories
                WHERE rowid IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH :match)
                  AND agent_id = :agent AND id <> :id AND superseded_by IS NULL AND archived_at IS NULL
                  AND created_at <= :created AND \(visibleMemory)
                  AND NOT EXISTS (SELECT 1 FROM consolidation_sources WHERE summary_id = memories.id)
                """,
            arguments: [
                "match": changeMatch(agentIDs: [memory.agentID], words: words),
                "agent": memory.agentID, "id": memory.id, "created": memory.createdAt, "now": now,
            ])
        let stale = rows.filter { Supersession.makesStale(changes, content: $0[1]) }.map { $0[0] as String }
        try supersede(db, ids: stale, by: memory, now: now)
    }

    static func validated(_ new: NewMemory, now: UnixMillis) throws(StoreError) -> Memory {
        try Validation.agentID(new.agentID)
        if let id = new.id { try Validation.recordID(id) }
        if let sessionID = new.sessionID { try Validation.recordID(sessionID, field: "session_id") }
        try Validation.content(new.content)
        let type = try Validation.memoryType(new.memoryType)
        try Validation.importance(new.importance)
        try Validation.tags(new.tags)
        try Validation.metadata(new.metadata)
        if let ttl = new.ttlSeconds { try Validation.ttl(ttl) }
        return Memory(
            id: new.id ?? newID(now: now), agentID: new.agentID, sessionID: new.sessionID, content: new.content,
            memoryType: type, importance: new.importance, decayRefAt: now, tags: new.tags, metadata: new.metadata,
            createdAt: new.createdAt ?? now, updatedAt: now, expiresAt: new.expiresAt ?? new.ttlSeconds.map { now + $0 * 1000 })
    }

    /// A visible memory (archived ones included: they are still readable by id).
    public func memory(id: String) async throws -> Memory? {
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.memory(id: id, now: now) }
        return try await read { db in try Self.fetchVisibleMemory(db, id: id, now: now) }
    }

    static func fetchVisibleMemory(_ db: Database, id: String, now: UnixMillis) throws -> Memory? {
        try Memory.fetchOne(
            db, sql: "SELECT \(Memory.columns) FROM memories WHERE id = :id AND \(visibleMemory)",
            arguments: ["id": id, "now": now])
    }

    public func updateMemory(id: String, _ update: MemoryUpdate) async throws -> Memory {
        if let content = update.content { try Validation.content(content) }
        if let importance = update.importance { try Validation.importance(importance) }
        if let tags = update.tags { try Validation.tags(tags) }
        if let metadata = update.metadata { try Validation.metadata(metadata) }
        let type = try update.memoryType.map { type throws(StoreError) in try Validation.memoryType(type) }
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.updateMemory(id: id, now: now) { $0.applying(update, type: type, now: now) }
        }
        return try await transaction { db in
            guard let found = try Self.fetchVisibleMemory(db, id: id, now: now) else {
                throw StoreError.memoryNotFound(id)
            }
            let memory = found.applying(update, type: type, now: now)
            try db.execute(
                sql: """
                    UPDATE memories SET content = ?, importance = ?, base_importance = ?, decay_ref_at = ?, tags = ?,
                        metadata = ?, memory_type = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    memory.content, memory.importance, memory.baseImportance, memory.decayRefAt,
                    Memory.tagsText(memory.tags), memory.metadata.jsonText(), memory.memoryType.rawValue, now, id,
                ])
            return memory
        }
    }

    /// Deletes memories by id (only `agentID`'s, when given); returns how many existed.
    public func forget(ids: [String], agentID: String? = nil) async throws -> Int {
        for id in ids { try Validation.recordID(id, field: "memory_ids") }
        if case .postgres(let postgres) = engine { return try await postgres.forget(ids: ids, agentID: agentID) }
        return try await transaction { db in
            var count = 0
            for id in ids {
                try db.execute(
                    sql: "DELETE FROM memories WHERE id = ? AND agent_id = coalesce(?, agent_id)", arguments: [id, agentID])
                count += db.changesCount
            }
            return count
        }
    }

    /// Visible memories, newest first.
    public func memories(
        agentID: String? = nil, sessionID: String? = nil, includeArchived: Bool = false, limit: Int = 100, offset: Int = 0
    ) async throws -> [Memory] {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.memories(
                agentID: agentID, sessionID: sessionID, includeArchived: includeArchived, limit: limit, offset: offset,
                now: now)
        }
        return try await read { db in
            var conditions = [visibleMemory]
            var arguments: [String: (any DatabaseValueConvertible)?] = ["now": now, "limit": limit, "offset": offset]
            if let agentID {
                conditions.append("agent_id = :agent")
                arguments["agent"] = agentID
            }
            if let sessionID {
                conditions.append("session_id = :session")
                arguments["session"] = sessionID
            }
            if !includeArchived { conditions.append("archived_at IS NULL") }
            return try Memory.fetchAll(
                db,
                sql: """
                    SELECT \(Memory.columns) FROM memories WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset
                    """,
                arguments: StatementArguments(arguments))
        }
    }

    /// Access reinforcement: what recall returned is accessed now, and its decay starts over.
    public func recordAccess(ids: [String], sessionID: String? = nil) async throws {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.recordAccess(
                ids: ids, sessionID: sessionID, now: now, defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        try await groupWrite { db in
            try Self.markAccessed(db, ids: ids, now: now)
            if let sessionID { try self.recordActivity(db, sessionID: sessionID, now: now) }
        }
    }
}
