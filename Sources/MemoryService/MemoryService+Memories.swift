import Embeddings
import MemoryStore

extension MemoryService {
    static let storeFields: Set<String> = [
        "agent_id", "content", "memory_type", "importance", "metadata", "session_id", "tags", "ttl_seconds",
        "expires_at", "id", "supersedes", "created_at",
    ]

    /// Stores one memory: `{memory, superseded?, session_state?, warnings?}`.
    public func store(_ body: JSONBody, principal: Principal) async throws -> JSONValue {
        let agent = try body.string("agent_id")
        try authorize(.write, agent: agent, principal: principal)
        let new = try newMemory(body, agent: agent, principal: principal)
        let stored = try await store.storeMemories([new], vectors: try await inlineVectors([new.content]))
        maintenance.noteNewMemories()
        var answer: [String: JSONValue] = ["memory": Representation.memory(stored.memories[0])]
        if !new.supersedes.isEmpty { answer["superseded"] = .array(new.supersedes.map(JSONValue.string)) }
        if let session = stored.sessions.first {
            noteActivity(session)
            answer["session_state"] = Representation.sessionState(session)
        }
        let warnings = body.unknownFields(known: Self.storeFields)
        if !warnings.isEmpty { answer["warnings"] = .array(warnings.map(JSONValue.string)) }
        return .object(answer)
    }

    /// Stores up to 1,000 memories of one agent in one transaction.
    public func storeBatch(_ body: JSONBody, principal: Principal) async throws -> JSONValue {
        let agent = try body.string("agent_id")
        try authorize(.write, agent: agent, principal: principal)
        guard let items = try body.optionalArray("memories"), (1...1000).contains(items.count) else {
            throw APIError.invalid("memories", "must be an array of 1 to 1000 memories")
        }
        let news = try items.enumerated().map { index, item in
            guard let fields = item.objectValue else { throw APIError.invalid("memories[\(index)]", "must be a JSON object") }
            return try newMemory(JSONBody(fields), agent: agent, principal: principal, field: "memories[\(index)].")
        }
        let started = ContinuousClock.now
        let vectors = try await inlineVectors(news.map(\.content))
        let embedding = started.duration(to: .now)
        let stored = try await store.storeMemories(news, vectors: vectors)
        maintenance.noteNewMemories()
        stored.sessions.forEach(noteActivity)
        let ended = stored.sessions.filter { !$0.isOpen }.map(\.id)
        return .object([
            "stored": .array(stored.memories.map(Representation.memory)),
            "stored_count": .number(Double(stored.memories.count)),
            "total_embedding_time_ms": .number(vectors == nil ? 0 : Double(embedding / .microseconds(1)) / 1000),
            "ended_sessions": .array(ended.map(JSONValue.string)),
        ])
    }

    /// Changes a memory the caller may write (`visibleMemory` with `.write`): its content,
    /// importance, tags, metadata or type; new content is embedded again.
    public func update(_ existing: Memory, _ body: JSONBody) async throws -> JSONValue {
        let updated = try await store.updateMemory(
            id: existing.id,
            MemoryUpdate(
                content: try body.optionalString("content"), importance: try body.optionalDouble("importance"),
                tags: try body.optionalStrings("tags"), metadata: try body.optionalObject("metadata"),
                memoryType: try body.optionalString("memory_type")))
        if updated.content != existing.content {
            if let vectors = try await inlineVectors([updated.content]) {
                let task = EmbeddingTask(memoryID: updated.id, agentID: updated.agentID, content: updated.content)
                _ = try await store.storeVectors([(task, vectors.values[0])], model: vectors.model)
            }
            maintenance.noteNewMemories()
        }
        return Representation.memory(updated)
    }

    /// Deletes memories of one agent by id: `{deleted, deleted_count}`.
    public func forget(_ body: JSONBody, principal: Principal) async throws -> JSONValue {
        let agent = try body.string("agent_id")
        try authorize(.write, agent: agent, principal: principal)
        let listed = try body.optionalStrings("memory_ids")
        var ids = listed ?? []
        if let single = try body.optionalString("memory_id") { ids.append(single) }
        // The list is bounded as the API describes it; `memory_id` comes on top.
        guard !ids.isEmpty, listed.map({ (1...1000).contains($0.count) }) ?? true else {
            throw APIError.invalid("memory_ids", "must list 1 to 1000 memory ids")
        }
        let deleted = try await store.forget(ids: ids, agentID: agent)
        return .object(["deleted": .number(Double(deleted)), "deleted_count": .number(Double(deleted))])
    }

    /// The fields of a memory to store; `field` prefixes names in errors (batch items).
    func newMemory(_ body: JSONBody, agent: String, principal: Principal, field: String = "") throws -> NewMemory {
        do {
            let ttl = try body.optionalInt("ttl_seconds")
            return NewMemory(
                id: try chosenID(body, principal: principal), agentID: agent, sessionID: try body.optionalString("session_id"),
                content: try body.string("content"), memoryType: try body.optionalString("memory_type") ?? "episodic",
                importance: try body.optionalDouble("importance") ?? 0.5, tags: try body.optionalStrings("tags") ?? [],
                metadata: try body.optionalObject("metadata") ?? .emptyObject, ttlSeconds: ttl,
                expiresAt: try body.optionalTime("expires_at"), supersedes: try body.optionalStrings("supersedes") ?? [],
                createdAt: try body.optionalTime("created_at"))
        } catch let error as FieldError where !field.isEmpty {
            throw APIError.invalid(field + error.field, error.reason)
        } catch let error as APIError where !field.isEmpty {
            throw APIError(error.status, code: error.code, field + error.message)
        }
    }

    /// Vectors of `texts` from an in-process embedder, for the store transaction; nil with a
    /// remote one (or none): the `embed` job embeds those memories, and the request never waits.
    func inlineVectors(_ texts: [String]) async throws -> (model: EmbeddingModel, values: [[Float]])? {
        guard let embedder, embedder.embedsInline else { return nil }
        return (embedder.vectorModel, try await embedder.embed(texts))
    }
}
