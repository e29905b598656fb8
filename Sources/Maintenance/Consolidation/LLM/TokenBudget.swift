import MemoryStore

/// `llm.max_tokens_per_run` and `llm.max_tokens_per_day` (prompt + completion). A call goes only
/// when its worst case (the estimated prompt plus `max_output_tokens`) fits in both beside what
/// is already spent or reserved, so a budget is not overrun by the call that crosses it.
public struct TokenBudget: Sendable, Equatable {
    public var perRun: Int?
    public var perDay: Int?

    public init(perRun: Int? = nil, perDay: Int? = nil) {
        self.perRun = perRun
        self.perDay = perDay
    }

    /// Why a call may not go.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var key: String
        public var limit: Int
        public var spent: Int
        public var call: Int

        public init(key: String, limit: Int, spent: Int, call: Int) {
            self.key = key
            self.limit = limit
            self.spent = spent
            self.call = call
        }

        public var description: String {
            "\(key) is \(limit) tokens, \(spent) spent or reserved; the next call could take \(call)"
        }
    }

    /// Nil when a call of at most `call` tokens fits; `run` and `day` are spent plus reserved.
    public func refusal(call: Int, run: Int, day: Int) -> Refusal? {
        if let perRun, run + call > perRun {
            return Refusal(key: "llm.max_tokens_per_run", limit: perRun, spent: run, call: call)
        }
        if let perDay, day + call > perDay {
            return Refusal(key: "llm.max_tokens_per_day", limit: perDay, spent: day, call: call)
        }
        return nil
    }
}
