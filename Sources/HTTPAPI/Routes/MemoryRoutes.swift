import Embeddings
import Hummingbird
import Maintenance
import MemoryStore

extension APIHandlers {
    static let storeFields: Set<String> = [
        "agent_id", "content", "memory_type", "importance", "metadata", "session_id", "tags", "ttl_seconds",
        "expires_at", "id", "supersedes",
    ]

    func addMemoryRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/v1/memory/store") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            let agent = try body.string("agent_id")
            try authorize(.write, agent: agent, context: context)
            let new = try newMemory(body, agent: agent, context: context)
            let stored = try await store.storeMemories([new], vectors: try await inlineVectors([new.content]))
            dependencies.scheduler.noteNewMemories()
            var answer: [String: JSONValue] = ["memory": Representation.memory(stored.memories[0])]
            if !new.supersedes.isEmpty { answer["superseded"] = .array(new.supersedes.map(JSONValue.string)) }
            if let session = stored.sessions.first {
                noteActivity(session)
                answer["session_state"] = Representation.sessionState(session)
            }
            let warnings = body.unknownFields(known: Self.storeFields)
            if !warnings.isEmpty { answer["warnings"] = .array(warnings.map(JSONValue.string)) }
            return JSONResponse.make(.object(answer), status: .created)
        }
        routes.on(.post, "/v1/memory/recall") { request, context in
            try await recallResponse(try await JSONBody.read(request, limit: maxBody), context: context)
        }
        routes.on(.get, "/v1/memory/recall") { request, context in
            let body = try QueryParameters(request).asBody(
                numbers: ["top_k", "min_importance"], booleans: ["include_archived", "include_superseded"], lists: ["tags"])
            return try await recallResponse(body, context: context)
        }
        routes.on(.get, "/v1/memory/get/{id}") { request, context in
            let memory = try await visibleMemory(try context.path("id"), request: request, context: context, scope: .read)
            return JSONResponse.make(Representation.memory(memory))
        }
        routes.on(.get, "/v1/memory/{id}/sources") { request, context in
            let memory = try await visibleMemory(try context.path("id"), request: request, context: context, scope: .read)
            do {
                return JSONResponse.make(try await store.explain(id: memory.id).json)
            } catch StoreError.notRestorable {
                throw APIError(
                    .notFound, code: "NOT_FOUND",
                    "memory \(memory.id) is neither a consolidation summary nor a consolidated source")
            }
        }
        routes.on(.put, "/v1/memory/update/{id}") { request, context in
            let existing = try await visibleMemory(
                try context.path("id"), request: request, context: context, scope: .write)
            let body = try await JSONBody.read(request, limit: maxBody)
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
                dependencies.scheduler.noteNewMemories()
            }
            return JSONResponse.make(Representation.memory(updated))
        }
        routes.on(.post, "/v1/memory/forget") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            let agent = try body.string("agent_id")
            try authorize(.write, agent: agent, context: context)
            var ids = try body.optionalStrings("memory_ids") ?? []
            if let single = try body.optionalString("memory_id") { ids.append(single) }
            guard !ids.isEmpty, ids.count <= 1000 else {
                throw APIError.invalid("memory_ids", "must list 1 to 1000 memory ids")
            }
            let deleted = try await store.forget(ids: ids, agentID: agent)
            return JSONResponse.make(.object(["deleted": .number(Double(deleted)), "deleted_count": .number(Double(deleted))]))
        }
        routes.on(.post, "/v1/memories/recall/batch") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            if let queries = try body.optionalArray("queries") { return try await multiRecall(queries, context: context) }
            return try await filterRecall(body, context: context)
        }
        routes.on(.post, "/v1/memories/store/batch") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            let agent = try body.string("agent_id")
            try authorize(.write, agent: agent, context: context)
            guard let items = try body.optionalArray("memories"), (1...1000).contains(items.count) else {
                throw APIError.invalid("memories", "must be an array of 1 to 1000 memories")
            }
            let news = try items.enumerated().map { index, item in
                guard let fields = item.objectValue else { throw APIError.invalid("memories[\(index)]", "must be a JSON object") }
                return try newMemory(JSONBody(fields), agent: agent, context: context, field: "memories[\(index)].")
            }
            let started = ContinuousClock.now
            let vectors = try await inlineVectors(news.map(\.content))
            let embedding = started.duration(to: .now)
            let stored = try await store.storeMemories(news, vectors: vectors)
            dependencies.scheduler.noteNewMemories()
            stored.sessions.forEach(noteActivity)
            let ended = stored.sessions.filter { !$0.isOpen }.map(\.id)
            return JSONResponse.make(
                .object([
                    "stored": .array(stored.memories.map(Representation.memory)),
                    "stored_count": .number(Double(stored.memories.count)),
                    "total_embedding_time_ms": .number(vectors == nil ? 0 : Double(embedding / .microseconds(1)) / 1000),
                    "ended_sessions": .array(ended.map(JSONValue.string)),
                ]), status: .created)
        }
    }

    /// The fields of a memory to store; `field` prefixes names in errors (batch items).
    func newMemory(_ body: JSONBody, agent: String, context: APIRequestContext, field: String = "") throws -> NewMemory {
        do {
            let ttl = try body.optionalInt("ttl_seconds")
            return NewMemory(
                id: try chosenID(body, context: context), agentID: agent, sessionID: try body.optionalString("session_id"),
                content: try body.string("content"), memoryType: try body.optionalString("memory_type") ?? "episodic",
                importance: try body.optionalDouble("importance") ?? 0.5, tags: try body.optionalStrings("tags") ?? [],
                metadata: try body.optionalObject("metadata") ?? .emptyObject, ttlSeconds: ttl,
                expiresAt: try body.optionalTime("expires_at"), supersedes: try body.optionalStrings("supersedes") ?? [])
        } catch let error as APIError where !field.isEmpty {
            throw APIError(error.status, code: error.code, field + error.message)
        }
    }

    /// A memory by id that the caller may see (and of `?agent_id=` when given), else 404.
    func visibleMemory(_ id: String, request: Request, context: APIRequestContext, scope: Scope) async throws -> Memory {
        let agent = QueryParameters(request).values["agent_id"]
        guard let memory = try await store.memory(id: id), agent == nil || agent == memory.agentID else {
            throw APIError.notFound("memory \(id)")
        }
        try context.principal.authorize(scope, agent: memory.agentID, notFound: APIError.notFound("memory \(id)"))
        return memory
    }

    func recallQuery(_ body: JSONBody, context: APIRequestContext) throws -> RecallQuery {
        let agent = try body.string("agent_id")
        try authorize(.read, agent: agent, context: context)
        var query = RecallQuery(agentID: agent, query: try body.optionalString("query") ?? "")
        query.topK = Int(try body.optionalInt("top_k") ?? 5)
        guard (1...MemoryStore.maxTopK).contains(query.topK) else {
            throw APIError.invalid("top_k", "must be between 1 and \(MemoryStore.maxTopK)")
        }
        query.minImportance = try body.optionalDouble("min_importance")
        if let minImportance = query.minImportance { try Validation.importance(minImportance, field: "min_importance") }
        query.memoryType = try body.optionalString("memory_type").map { try Validation.memoryType($0) }
        query.tags = try body.optionalStrings("tags")
        if let tags = query.tags { try Validation.tags(tags) }
        query.sessionID = try body.optionalString("session_id")
        query.since = try body.optionalTime("since")
        query.until = try body.optionalTime("until")
        query.includeArchived = try body.optionalBool("include_archived") ?? false
        query.includeSuperseded = try body.optionalBool("include_superseded") ?? false
        return query
    }

    /// Vectors of `texts` from an in-process embedder, for the store transaction; nil with a
    /// remote one (or none): the `embed` job embeds those memories, and the request never waits.
    func inlineVectors(_ texts: [String]) async throws -> (model: EmbeddingModel, values: [[Float]])? {
        guard let embedder = dependencies.embedder, embedder.embedsInline else { return nil }
        return (embedder.vectorModel, try await embedder.embed(texts))
    }

    /// The queries with their vectors, embedded in one batch; without an embedder (or with a
    /// failing one: recall then degrades to full text, and says so in the log) as they are.
    func embedded(_ queries: [RecallQuery], context: APIRequestContext) async -> [RecallQuery] {
        guard let embedder = dependencies.embedder else { return queries }
        let texts = queries.map(\.query)
        guard texts.contains(where: { !$0.isEmpty }) else { return queries }
        do {
            let vectors = try await dependencies.queryVectors.vectors(texts, embedder: embedder)
            let model = embedder.vectorModel
            return zip(queries, vectors).map { query, vector in
                var query = query
                if !query.query.isEmpty { query.embedding = QueryEmbedding(model: model, vector: vector) }
                return query
            }
        } catch {
            context.logger.warning("cannot embed the recall query, ranking by full text only: \(error)")
            return queries
        }
    }

    /// One recall's answer fields: `memories`, and `superseded_hidden`, how many superseded
    /// memories ranked among them and were left out.
    func recalled(_ query: RecallQuery) async throws -> [String: JSONValue] {
        let (hits, session, supersededHidden) = try await store.recall(query, weights: dependencies.http.recall)
        noteActivity(session)
        let memories = JSONValue.array(hits.map { hit in
            .object(["memory": Representation.memory(hit.memory), "score": .number(hit.score), "rank_score": .number(hit.rankScore)])
        })
        return ["memories": memories, "superseded_hidden": .number(Double(supersededHidden))]
    }

    func recallResponse(_ body: JSONBody, context: APIRequestContext) async throws -> Response {
        let query = await embedded([try recallQuery(body, context: context)], context: context)[0]
        return JSONResponse.make(.object(try await recalled(query)))
    }

    /// The multi-topic form: several recalls in one round trip, answered in request order.
    /// Every query is read before any runs, so a bad one changes nothing (recall records access).
    func multiRecall(_ queries: [JSONValue], context: APIRequestContext) async throws -> Response {
        guard (1...32).contains(queries.count) else { throw APIError.invalid("queries", "must hold 1 to 32 queries") }
        let parsed = try queries.enumerated().map { index, item in
            guard let fields = item.objectValue else { throw APIError.invalid("queries[\(index)]", "must be a JSON object") }
            do {
                return try recallQuery(JSONBody(fields), context: context)
            } catch {
                guard let known = APIError.from(error) else { throw error }
                throw APIError(known.status, code: known.code, "queries[\(index)].\(known.message)")
            }
        }
        var results: [JSONValue] = []
        for query in await embedded(parsed, context: context) {
            var result = try await recalled(query)
            result["agent_id"] = .string(query.agentID)
            result["query"] = .string(query.query)
            results.append(.object(result))
        }
        return JSONResponse.make(.object(["results": .array(results)]))
    }

    /// Dakera's filter form: `{agent_id, filter, limit}`, no ranking.
    func filterRecall(_ body: JSONBody, context: APIRequestContext) async throws -> Response {
        let agent = try body.string("agent_id")
        try authorize(.read, agent: agent, context: context)
        let filterBody = JSONBody(try body.optionalObject("filter")?.objectValue ?? [:])
        var filter = MemoryFilter()
        filter.tags = try filterBody.optionalStrings("tags")
        if let tags = filter.tags { try Validation.tags(tags, field: "filter.tags") }
        filter.minImportance = try filterBody.optionalDouble("min_importance") ?? body.optionalDouble("min_importance")
        filter.maxImportance = try filterBody.optionalDouble("max_importance")
        filter.createdAfter = try filterBody.optionalTime("created_after")
        filter.createdBefore = try filterBody.optionalTime("created_before")
        filter.memoryType = try filterBody.optionalString("memory_type").map { try Validation.memoryType($0) }
        filter.sessionID = try filterBody.optionalString("session_id")
        if let session = filter.sessionID { try Validation.recordID(session, field: "filter.session_id") }
        for (name, value) in [("filter.min_importance", filter.minImportance), ("filter.max_importance", filter.maxImportance)] {
            if let value { try Validation.importance(value, field: name) }
        }
        let limit = Int(try body.optionalInt("limit") ?? 100)
        let result = try await store.filteredMemories(agentID: agent, filter: filter, limit: limit)
        return JSONResponse.make(.object([
            "memories": .array(result.memories.map(Representation.memory)), "total": .number(Double(result.total)),
            "filtered": .number(Double(result.filtered)), "truncated": .bool(result.filtered > result.memories.count),
        ]))
    }
}
