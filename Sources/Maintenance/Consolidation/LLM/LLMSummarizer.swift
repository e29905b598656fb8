import MemoryStore

/// Words topic summaries with a chat model, one call per batch. A topic's text is used only when
/// `SummaryGate` accepts it; otherwise, and on any failure of the call or its answer, the topic
/// keeps its extractive text and the reason is recorded with it.
public struct LLMSummarizer: Summarizer {
    public let name = "llm"
    public let client: ChatCompletionsClient
    public let gate: SummaryGate

    public init(client: ChatCompletionsClient, gate: SummaryGate) {
        self.client = client
        self.gate = gate
    }

    public func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact]) async throws -> SummaryTexts {
        guard !plan.topics.isEmpty else { return SummaryTexts(topics: []) }
        let prompt = SummaryPrompt.user(
            plan: plan, facts: facts, maxCharacters: gate.maxCharacters, mustKeepImportance: gate.mustKeepImportance)
        let completion: ChatCompletionsClient.Completion
        do {
            completion = try await client.complete(system: SummaryPrompt.system, user: prompt, schema: SummaryPrompt.answerSchema)
        } catch let failure as ChatCompletionsClient.Failure {
            var texts = SummaryTexts.extractive(plan, fallback: "\(failure.reason): \(failure)")
            texts.calls = 1
            return texts
        }
        var texts: SummaryTexts
        do {
            let answer = try LLMAnswer.parse(completion.content)
            texts = SummaryTexts(topics: plan.topics.enumerated().map { index, topic in
                switch gate.check(answer.topics[index + 1] ?? [], topic: topic, plan: plan, facts: facts) {
                case .success(let text): .init(text: text, writer: name)
                case .failure(let failure):
                    .init(text: topic.extractiveText, writer: "extractive", fallback: "\(failure.reason): \(failure)")
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
