import CoreMetrics
import MemoryStore

/// The LLM summarizer's Prometheus figures: calls by result, tokens by kind, the latency of each
/// call, and topics that fell back to their extractive text, by reason.
public struct LLMMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// `result`: `ok`, or the failure's reason (`timeout`, `status_503`, …).
    func recordCall(result: String, usage: LLMUsage, latency: Duration) {
        Counter(label: "memkeep_llm_calls_total", dimensions: [("result", result)], factory: factory).increment()
        for (kind, tokens) in [("prompt", usage.promptTokens), ("completion", usage.completionTokens)] where tokens > 0 {
            Counter(label: "memkeep_llm_tokens_total", dimensions: [("kind", kind)], factory: factory).increment(by: tokens)
        }
        Timer(label: "memkeep_llm_call_duration_seconds", factory: factory)
            .recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
    }

    func recordFallbacks(_ texts: SummaryTexts) {
        for reason in texts.topics.compactMap(\.fallbackReason) {
            Counter(label: "memkeep_llm_fallbacks_total", dimensions: [("reason", reason)], factory: factory).increment()
        }
    }
}
