import MemoryStore
import Synchronization

/// What one consolidation run spends on LLM calls. Each call reserves its worst case before it
/// goes (so concurrent calls cannot together overrun a budget) and records what it cost in the
/// store as it returns: the day's spend in `llm_usage`, the run's in its `job_runs` row. A run
/// killed later has every answered call counted, and the next run sees it.
public final class SpendLedger: Sendable {
    struct State {
        var run = LLMUsage()
        var reserved = 0
        /// The UTC day `daySpent` counts, once read from the store.
        var day: Int64?
        var daySpent = 0
    }

    let store: MemoryStore?
    let runID: Int64?
    let clock: any WallClock
    private let state = Mutex(State())

    /// `store` nil: counted in memory only (a summarizer used outside a job run).
    public init(store: MemoryStore?, runID: Int64?, clock: any WallClock) {
        self.store = store
        self.runID = runID
        self.clock = clock
    }

    /// What this run has spent so far.
    public var run: LLMUsage { state.withLock { $0.run } }

    /// Reserves `tokens` for a call, or says which budget it would overrun.
    public func reserve(_ tokens: Int, within budget: TokenBudget) async throws -> TokenBudget.Refusal? {
        let today = clock.now().utcDay
        if state.withLock({ $0.day != today }) {
            let spent = try await store?.llmUsage(day: today).tokens ?? 0
            state.withLock { state in
                if state.day != today { (state.day, state.daySpent) = (today, spent) }
            }
        }
        return state.withLock { state in
            let refusal = budget.refusal(
                call: tokens, run: state.run.tokens + state.reserved, day: state.daySpent + state.reserved)
            if refusal == nil { state.reserved += tokens }
            return refusal
        }
    }

    /// Releases a call's reservation and records what the call cost, with the answer it bought
    /// under its prompt's key.
    public func settle(reserved tokens: Int, usage: LLMUsage, answer: (promptKey: String, content: String)? = nil)
        async throws
    {
        let now = clock.now()
        state.withLock { state in
            state.reserved -= tokens
            state.run = state.run + usage
            if state.day == now.utcDay { state.daySpent += usage.tokens }
        }
        try await store?.recordLLMUsage(usage, day: now.utcDay, runID: runID, answer: answer, now: now)
    }

    /// How long a paid answer is kept for a rerun of its prompt.
    public static let answerLifetime: UnixMillis = .day

    /// The answer a call to the prompt of `promptKey` already bought, if one is kept.
    public func paidAnswer(promptKey: String) async throws -> String? {
        try await store?.paidLLMAnswer(promptKey: promptKey, since: clock.now() - Self.answerLifetime)
    }
}
