import MemoryStore

/// Words topic summaries with a chat model, one call per batch. A topic's text is used only when
/// `SummaryGate` accepts it; otherwise, and on any failure of the call or its answer, the topic
/// keeps its extractive text and the reason is recorded with it. No call goes while the breaker
/// is open or when its worst case would overrun a token budget.
public struct LLMSummarizer: Summarizer {
    public let name = "llm"
    public let client: ChatCompletionsClient
    public let gate: SummaryGate
    public let breaker: CircuitBreaker
    public var budget: TokenBudget
    public var concurrency: Int
    let clock: any WallClock
    let metrics: LLMMetrics

    public init(
        client: ChatCompletionsClient, gate: SummaryGate, breaker: CircuitBreaker = CircuitBreaker(),
        budget: TokenBudget = TokenBudget(), concurrency: Int = 2, clock: any WallClock = SystemClock(),
        metrics: LLMMetrics = LLMMetrics()
    ) {
        self.client = client
        self.gate = gate
        self.breaker = breaker
        self.budget = budget
        self.concurrency = concurrency
        self.clock = clock
        self.metrics = metrics
    }

    public func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws
        -> SummaryTexts
    {
        guard !plan.topics.isEmpty else { return SummaryTexts(topics: []) }
        let texts = try await words(plan, facts: facts, ledger: ledger)
        metrics.recordFallbacks(texts)
        return texts
    }

    func words(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws -> SummaryTexts {
        let prompt = SummaryPrompt.user(
            plan: plan, facts: facts, maxCharacters: gate.maxCharacters, mustKeepImportance: gate.mustKeepImportance)
        let key = Self.promptKey(model: client.settings.model, prompt: prompt)
        if let paid = try await ledger.paidAnswer(promptKey: key) {
            return checked(paid, plan: plan, facts: facts)
        }
        if let until = breaker.openUntil(now: clock.now()) {
            return .extractive(
                plan,
                fallback: "breaker_open: \(breaker.failures) calls in a row failed; no calls until \(TimeFormat.rfc3339(until))")
        }
        let worstCase =
            ChatCompletionsClient.estimatedTokens(SummaryPrompt.system) + ChatCompletionsClient.estimatedTokens(prompt)
            + client.settings.maxOutputTokens
        if let refusal = try await ledger.reserve(worstCase, within: budget) {
            return .extractive(plan, fallback: "budget_spent: \(refusal)")
        }
        let started = ContinuousClock.now
        let completion: ChatCompletionsClient.Completion
        do {
            completion = try await client.complete(system: SummaryPrompt.system, user: prompt, schema: SummaryPrompt.answerSchema)
        } catch let failure as ChatCompletionsClient.Failure {
            // The run was cancelled (its timeout, shutdown): not the server's failure.
            try Task.checkCancellation()
            breaker.record(success: false, now: clock.now())
            let usage = LLMUsage(calls: 1)
            try await ledger.settle(reserved: worstCase, usage: usage)
            metrics.recordCall(result: failure.reason, usage: usage, latency: started.duration(to: .now))
            var texts = SummaryTexts.extractive(plan, fallback: "\(failure.reason): \(failure)")
            texts.usage = usage
            return texts
        }
        breaker.record(success: true, now: clock.now())
        let usage = LLMUsage(calls: 1, promptTokens: completion.promptTokens, completionTokens: completion.completionTokens)
        try await ledger.settle(reserved: worstCase, usage: usage, answer: (key, completion.content))
        metrics.recordCall(result: "ok", usage: usage, latency: started.duration(to: .now))
        var texts = checked(completion.content, plan: plan, facts: facts)
        texts.usage = usage
        return texts
    }

    /// Each topic's text from the answer where the gate accepts it, else the extractive one.
    func checked(_ content: String, plan: SummaryPlan, facts: [String: ConsolidationFact]) -> SummaryTexts {
        do {
            let answer = try LLMAnswer.parse(content)
            return SummaryTexts(topics: plan.topics.enumerated().map { index, topic in
                switch gate.check(answer.topics[index + 1] ?? [], topic: topic, plan: plan, facts: facts) {
                case .success(let text): .init(text: text, writer: name, promptVersion: SummaryPrompt.version)
                case .failure(let failure):
                    .init(text: topic.extractiveText, writer: ExtractiveSummarizer.writer, fallback: "\(failure.reason): \(failure)")
                }
            })
        } catch {
            return .extractive(plan, fallback: "malformed_answer: \(error)")
        }
    }

    /// The key a paid answer is kept under: the prompt's version, the model and the prompt
    /// (FNV-1a, 64 bits). A collision could only hand the gate another answer to check.
    static func promptKey(model: String, prompt: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(SummaryPrompt.version)\n\(model)\n\(prompt)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
