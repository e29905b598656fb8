import Embeddings
import Logging
import MemoryStore

extension MemoryService {
    /// One recall: `{memories: [{memory, score, rank_score}], superseded_hidden}`.
    public func recall(_ body: JSONBody, principal: Principal, logger: Logger) async throws -> JSONValue {
        let query = await embedded([try recallQuery(body, principal: principal)], logger: logger)[0]
        return .object(try await recalled(query))
    }

    /// The multi-topic form: several recalls in one round trip, answered in request order.
    /// Every query is read before any runs, so a bad one changes nothing (recall records access).
    public func multiRecall(_ queries: [JSONValue], principal: Principal, logger: Logger) async throws -> JSONValue {
        guard (1...32).contains(queries.count) else { throw APIError.invalid("queries", "must hold 1 to 32 queries") }
        let parsed = try queries.enumerated().map { index, item in
            guard let fields = item.objectValue else { throw APIError.invalid("queries[\(index)]", "must be a JSON object") }
            do {
                return try recallQuery(JSONBody(fields), principal: principal)
            } catch {
                guard let known = APIError.from(error) else { throw error }
                throw APIError(known.status, code: known.code, "queries[\(index)].\(known.message)")
            }
        }
        var results: [JSONValue] = []
        for query in await embedded(parsed, logger: logger) {
            var result = try await recalled(query)
            result["agent_id"] = .string(query.agentID)
            result["query"] = .string(query.query)
            results.append(.object(result))
        }
        return .object(["results": .array(results)])
    }

    /// Dakera's filter form: `{agent_id, filter, limit}`, no ranking.
    public func filterRecall(_ body: JSONBody, principal: Principal) async throws -> JSONValue {
        let agent = try body.string("agent_id")
        try authorize(.read, agent: agent, principal: principal)
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
        return .object([
            "memories": .array(result.memories.map(Representation.memory)), "total": .number(Double(result.total)),
            "filtered": .number(Double(result.filtered)), "truncated": .bool(result.filtered > result.memories.count),
        ])
    }

    func recallQuery(_ body: JSONBody, principal: Principal) throws -> RecallQuery {
        let agent = try body.string("agent_id")
        try authorize(.read, agent: agent, principal: principal)
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
        query.includeSummaries = try body.optionalBool("include_summaries") ?? false
        return query
    }

    /// How many of an agent's memories still waiting for a vector a recall embeds before it
    /// ranks (read-your-writes on one scale); past that the embed job is behind, and recall
    /// ranks the rest at the median similarity (see `MemoryStore.choose`).
    static let embeddedAtRecall = 16

    /// The queries with their vectors, embedded in one batch; without an embedder (or with a
    /// failing one: recall then degrades to full text, and says so in the log) as they are.
    /// The agents' memories still waiting for a vector are embedded first (a few), so that a
    /// memory stored a moment ago ranks by its vector like every other.
    func embedded(_ queries: [RecallQuery], logger: Logger) async -> [RecallQuery] {
        guard let embedder else { return queries }
        let texts = queries.map(\.query)
        guard texts.contains(where: { !$0.isEmpty }) else { return queries }
        let model = embedder.vectorModel
        for agent in Set(queries.map(\.agentID)) {
            do {
                let waiting = try await store.memoriesToEmbed(model: model, limit: Self.embeddedAtRecall, agent: agent)
                guard !waiting.isEmpty else { continue }
                let vectors = try await embedder.embed(waiting.map(\.content))
                _ = try await store.storeVectors(Array(zip(waiting, vectors)), model: model)
            } catch {
                logger.warning("cannot embed agent \(agent)'s new memories at recall, the embed job will: \(error)")
            }
        }
        do {
            let vectors = try await queryVectors.vectors(texts, embedder: embedder)
            return zip(queries, vectors).map { query, vector in
                var query = query
                if !query.query.isEmpty { query.embedding = QueryEmbedding(model: model, vector: vector) }
                return query
            }
        } catch {
            logger.warning("cannot embed the recall query, ranking by full text only: \(error)")
            return queries
        }
    }

    /// One recall's answer fields: `memories`, and `superseded_hidden`, how many superseded
    /// memories ranked among them and were left out.
    func recalled(_ query: RecallQuery) async throws -> [String: JSONValue] {
        let (hits, session, supersededHidden) = try await store.recall(query, weights: recallWeights)
        noteActivity(session)
        let memories = JSONValue.array(hits.map { hit in
            .object(["memory": Representation.memory(hit.memory), "score": .number(hit.score), "rank_score": .number(hit.rankScore)])
        })
        return ["memories": memories, "superseded_hidden": .number(Double(supersededHidden))]
    }
}
