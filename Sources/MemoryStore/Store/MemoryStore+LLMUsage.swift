import GRDB

/// What LLM calls cost: calls and tokens (prompt and completion).
public struct LLMUsage: Sendable, Equatable, Codable {
    public var calls = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init(calls: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0) {
        self.calls = calls
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public var tokens: Int { promptTokens + completionTokens }

    public static func + (a: LLMUsage, b: LLMUsage) -> LLMUsage {
        LLMUsage(
            calls: a.calls + b.calls, promptTokens: a.promptTokens + b.promptTokens,
            completionTokens: a.completionTokens + b.completionTokens)
    }

    enum CodingKeys: String, CodingKey {
        case calls
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }
}

extension UnixMillis {
    /// The UTC day `self` falls in, as days since 1970-01-01: the key of the daily LLM budget.
    public var utcDay: Int64 { floorDiv(.day) }
}

extension MemoryStore {
    /// Adds one call's usage to its UTC day and to its run, and keeps its answer by its prompt,
    /// in one transaction, as the call returns: a run killed later still has it counted, and
    /// the next run finds the answer instead of paying for it again.
    public func recordLLMUsage(
        _ usage: LLMUsage, day: Int64, runID: Int64?, answer: (promptKey: String, content: String)? = nil, now: UnixMillis
    ) async throws {
        if case .postgres(let postgres) = engine {
            return try await postgres.recordLLMUsage(usage, day: day, runID: runID, answer: answer, now: now)
        }
        try await transaction { db in
            if let answer {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO llm_answers (prompt_key, content, created_at) VALUES (?, ?, ?)",
                    arguments: [answer.promptKey, answer.content, now])
            }
            try db.execute(
                sql: """
                    INSERT INTO llm_usage (day, calls, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?)
                    ON CONFLICT (day) DO UPDATE SET calls = calls + excluded.calls,
                        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                        completion_tokens = completion_tokens + excluded.completion_tokens
                    """,
                arguments: [day, usage.calls, usage.promptTokens, usage.completionTokens])
            if let runID {
                try db.execute(
                    sql: """
                        UPDATE job_runs SET llm_calls = coalesce(llm_calls, 0) + ?,
                            llm_prompt_tokens = coalesce(llm_prompt_tokens, 0) + ?,
                            llm_completion_tokens = coalesce(llm_completion_tokens, 0) + ?
                        WHERE id = ?
                        """,
                    arguments: [usage.calls, usage.promptTokens, usage.completionTokens, runID])
            }
        }
    }

    /// What LLM calls cost on a UTC day, across every process sharing the store.
    public func llmUsage(day: Int64) async throws -> LLMUsage {
        if case .postgres(let postgres) = engine { return try await postgres.llmUsage(day: day) }
        return try await read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT calls, prompt_tokens, completion_tokens FROM llm_usage WHERE day = ?", arguments: [day])
            return LLMUsage(
                calls: row?["calls"] ?? 0, promptTokens: row?["prompt_tokens"] ?? 0,
                completionTokens: row?["completion_tokens"] ?? 0)
        }
    }

    /// The answer already paid for to the prompt of `promptKey`, kept since `since`.
    public func paidLLMAnswer(promptKey: String, since: UnixMillis) async throws -> String? {
        if case .postgres(let postgres) = engine { return try await postgres.paidLLMAnswer(promptKey: promptKey, since: since) }
        return try await read { db in
            try String.fetchOne(
                db, sql: "SELECT content FROM llm_answers WHERE prompt_key = ? AND created_at >= ?",
                arguments: [promptKey, since])
        }
    }
}
