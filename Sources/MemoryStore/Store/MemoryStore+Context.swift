import GRDB

/// What a context block is built from, read in one snapshot.
public struct ContextMaterial: Sendable {
    /// The agent's current facts: live, not superseded, not summaries, at or above the
    /// importance floor; in recall order with a query, else most important and newest first.
    public var facts: [Memory]
    /// The agent's live topic summaries, newest period first.
    public var summaries: [Memory]
    /// Per summary, the texts of its sources that a later fact has since superseded: their
    /// lines are stale history.
    public var supersededSources: [String: Set<String>]

    public init(facts: [Memory], summaries: [Memory], supersededSources: [String: Set<String>]) {
        self.facts = facts
        self.summaries = summaries
        self.supersededSources = supersededSources
    }
}

extension MemoryStore {
    /// The facts and summaries a context block may hold. `query.topK` bounds the facts;
    /// `query.sessionID`, when set, must be a session of the agent.
    public func contextMaterial(_ query: RecallQuery, weights: RecallWeights, summaryLimit: Int) async throws
        -> ContextMaterial
    {
        try Validation.agentID(query.agentID)
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.contextMaterial(
                query, weights: weights, summaryLimit: summaryLimit, now: now, vectors: vectors, lexical: lexical)
        }
        return try await read { [vectors, lexical] db in
            if let sessionID = query.sessionID {
                guard let session = try Self.fetchSession(db, id: sessionID), session.agentID == query.agentID else {
                    throw StoreError.sessionNotFound(sessionID)
                }
            }
            var factQuery = query
            factQuery.sessionID = nil
            let facts: [Memory]
            if query.query.isEmpty && query.embedding == nil {
                var (conditions, arguments) = Self.recallFilter(factQuery, now: now)
                arguments["limit"] = factQuery.topK
                facts = try Memory.fetchAll(
                    db,
                    sql: """
                        SELECT \(Memory.columns) FROM memories WHERE \(conditions.joined(separator: " AND "))
                            AND NOT \(Self.isSummary)
                        ORDER BY importance DESC, created_at DESC, id LIMIT :limit
                        """,
                    arguments: StatementArguments(arguments))
            } else {
                facts = try Self.rank(db, query: factQuery, vectors: vectors, lexical: lexical, weights: weights, now: now)
                    .hits.map(\.memory)
                    .filter { !$0.tags.contains(Memory.summaryTag) }
            }
            var (conditions, arguments) = Self.recallFilter(RecallQuery.summaries(of: query.agentID), now: now)
            arguments["limit"] = summaryLimit
            let summaries = try Memory.fetchAll(
                db,
                sql: """
                    SELECT \(Memory.columns) FROM memories WHERE \(conditions.joined(separator: " AND ")) AND \(Self.isSummary)
                    ORDER BY json_extract(metadata, '$.period_end') DESC, created_at DESC, id LIMIT :limit
                    """,
                arguments: StatementArguments(arguments))
            var superseded: [String: Set<String>] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.summary_id, m.content FROM consolidation_sources s JOIN memories m ON m.id = s.source_memory_id
                    WHERE s.summary_id IN (SELECT value FROM json_each(?)) AND m.superseded_by IS NOT NULL
                    """,
                arguments: [Memory.tagsText(summaries.map(\.id))])
            for row in rows { superseded[row[0] as String, default: []].insert(row[1]) }
            return ContextMaterial(facts: facts, summaries: summaries, supersededSources: superseded)
        }
    }

    /// The memories a context block returned count as accessed, as recall's do; with a session,
    /// the block counts as its activity. Returns the session with its moved deadline.
    public func recordContextUse(ids: [String], sessionID: String?) async throws -> Session? {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.recordContextUse(
                ids: ids, sessionID: sessionID, now: now, defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        return try await groupWrite { db in
            try Self.markAccessed(db, ids: ids, now: now)
            guard let sessionID else { return nil }
            try self.recordActivity(db, sessionID: sessionID, now: now)
            return try Self.fetchSession(db, id: sessionID)
        }
    }

    /// Whether a row is a consolidation summary (its tags hold `historical-summary`).
    static let isSummary = "EXISTS (SELECT 1 FROM json_each(memories.tags) WHERE value = '\(Memory.summaryTag)')"
}
