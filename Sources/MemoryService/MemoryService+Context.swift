import Logging
import MemoryStore

extension MemoryService {
    public static let contextFields: Set<String> = ["query", "budget_tokens", "min_importance", "include", "session_id"]
    /// The seed's floor for facts worth carrying into the next session.
    public static let contextMinImportance = 0.72
    public static let contextBudget = 400
    static let contextBudgetRange = 1...32_768
    static let contextSummaryLimit = 50

    /// The session-start context block of an agent: `{context, tokens, memories, truncated}`.
    public func context(agent: String, _ body: JSONBody, principal: Principal, logger: Logger) async throws -> JSONValue {
        try authorize(.read, agent: agent, principal: principal)
        let budget = Int(try body.optionalInt("budget_tokens") ?? Int64(Self.contextBudget))
        guard Self.contextBudgetRange.contains(budget) else {
            throw APIError.invalid(
                "budget_tokens", "must be an integer from \(Self.contextBudgetRange.lowerBound) to \(Self.contextBudgetRange.upperBound)")
        }
        let minImportance = try body.optionalDouble("min_importance") ?? Self.contextMinImportance
        try Validation.importance(minImportance, field: "min_importance")
        let include = try contextSections(body)
        var query = RecallQuery(agentID: agent, query: try body.optionalString("query") ?? "")
        query.topK = MemoryStore.maxTopK
        query.minImportance = minImportance
        query.sessionID = try body.optionalString("session_id")
        if let session = query.sessionID { try Validation.recordID(session, field: "session_id") }
        query = await embedded([query], logger: logger)[0]

        let material = try await store.contextMaterial(query, weights: recallWeights, summaryLimit: Self.contextSummaryLimit)
        let block = ContextBuilder(budgetTokens: budget, include: include).build(material)
        noteActivity(try await store.recordContextUse(ids: block.memoryIDs, sessionID: query.sessionID))
        return block.json
    }

    func contextSections(_ body: JSONBody) throws -> Set<ContextSection> {
        guard let names = try body.optionalStrings("include") else { return Set(ContextSection.allCases) }
        let known = ContextSection.allCases.map(\.rawValue).joined(separator: ", ")
        guard !names.isEmpty else { throw APIError.invalid("include", "must name at least one of \(known)") }
        return Set(try names.map { name in
            guard let section = ContextSection(rawValue: name) else {
                throw APIError.invalid("include", "has \"\(name)\"; the parts are \(known)")
            }
            return section
        })
    }
}
