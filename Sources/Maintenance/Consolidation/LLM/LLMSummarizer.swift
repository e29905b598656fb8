import MemoryStore

/// Words topic summaries with a chat model, one call per batch. A topic's text is used only when
/// `SummaryGate` accepts it; otherwise, and on any failure of the call or its answer, the topic
/// keeps its extractive text and the reason is recorded with it.
public struct LLMSummarizer: Summarizer {
    public let name = "llm"
    public let client: ChatCompletionsClient
    public let gate: SummaryGate
    public let breaker: CircuitBreaker
    let clock: any WallClock

    public init(
        client: ChatCompletionsClient, gate: SummaryGate, breaker: CircuitBreaker = CircuitBreaker(),
        clock: any WallClock = SystemClock()
    ) {
        self.client = client
        self.gate = gate
        self.breaker = breaker
        self.clock = clock
    }

    public func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact]) async throws -> SummaryTexts {
        guard !plan.topics.isEmpty else { return SummaryTexts(topics: []) }
        let prompt = SummaryPrompt.user(
            plan: plan, facts: facts, maxCharacters: gate.maxCharacters, mustKeepImportance: gate.mustKeepImportance)
        if let until = breaker.openUntil(now: clock.now()) {
            return .extractive(
                plan,
                fallback: "breaker_open: \(breaker.failures) calls in a row failed; no calls until \(TimeFormat.rfc3339(until))")
        }
        let completion: ChatCompletionsClient.Completion
        do {
            completion = try await client.complete(system: SummaryPrompt.system, user: prompt, schema: SummaryPrompt.answerSchema)
            breaker.record(success: true, now: clock.now())
        } catch let failure as ChatCompletionsClient.Failure {
            breaker.record(success: false, now: clock.now())
            var texts = SummaryTexts.extractive(plan, fallback: "\(failure.reason): \(failure)")
            texts.calls = 1
            return texts
        }
        var texts: SummaryTexts
        do {
            let answer = try LLMAnswer.parse(completion.content)
            texts = SummaryTexts(topics: plan.topics.enumerated().map { index, topic in
                switch gate.check(answer.topics[index + 1] ?? [], topic: topic, plan: plan, facts: facts) {
                case .success(let text): .init(text: text, writer: name, promptVersion: SummaryPrompt.version)
                case .failure(let failure):
                    .init(text: topic.extractiveText, writer: ExtractiveSummarizer.writer, fallback: "\(failure.reason): \(failure)")
                }
            })
        } catch {
            texts = .extractive(plan, fallback: "malformed_answer: \(error)")
        }
        texts.calls = 1
        texts.promptTokens = completion.promptTokens
        texts.completionTokens = completion.completionTokens
        return texts
    }
}
