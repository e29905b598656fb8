import MemoryStore

/// Writes the text of a plan's topic summaries. The plan (topics, fates) is decided by
/// `SummaryPlanner`; a summarizer only words it.
public protocol Summarizer: Sendable {
    /// Recorded in each summary's metadata.
    var name: String { get }
    /// One text per topic, in order, each within the configured character cap.
    func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact]) async throws -> SummaryTexts
}

/// The texts of a plan's topics, and what writing them cost.
public struct SummaryTexts: Sendable, Equatable {
    public struct Topic: Sendable, Equatable {
        public var text: String
        /// The name of the summarizer that wrote this text (`extractive`, `llm`).
        public var writer: String
        /// Why an LLM text was not used (`unsupported_claim: "15" is in no fact…`), if it was not.
        public var fallback: String?
        /// The version of the prompt a model's text answered.
        public var promptVersion: String?

        public init(text: String, writer: String, fallback: String? = nil, promptVersion: String? = nil) {
            self.text = text
            self.writer = writer
            self.fallback = fallback
            self.promptVersion = promptVersion
        }
    }

    public var topics: [Topic]
    public var calls = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init(topics: [Topic]) {
        self.topics = topics
    }

    /// The extractive text of every topic, with `fallback` as the reason when it stands in for
    /// an LLM's.
    public static func extractive(_ plan: SummaryPlan, fallback: String? = nil) -> SummaryTexts {
        SummaryTexts(topics: plan.topics.map { Topic(text: $0.extractiveText, writer: ExtractiveSummarizer.writer, fallback: fallback) })
    }
}

/// The default summarizer: no network, deterministic; the plan's lines, one per fact.
public struct ExtractiveSummarizer: Summarizer {
    public static let writer = "extractive"
    public let name = ExtractiveSummarizer.writer
    public init() {}

    public func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact]) async throws -> SummaryTexts {
        .extractive(plan)
    }
}
