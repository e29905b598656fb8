import MemoryStore

/// Writes the text of a plan's topic summaries. The plan (topics, fates) is decided by
/// `SummaryPlanner`; a summarizer only words it.
public protocol Summarizer: Sendable {
    /// Recorded in each summary's metadata.
    var name: String { get }
    /// How many batches may be worded at once (`llm.max_concurrency`).
    var concurrency: Int { get }
    /// One text per topic, in order, each within the configured character cap. What model calls
    /// cost goes into `ledger`, the run's.
    func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws -> SummaryTexts
}

extension Summarizer {
    public var concurrency: Int { 1 }
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

        /// The fallback's reason alone (`unsupported_claim`), for counting.
        public var fallbackReason: String? { fallback.map { String($0.prefix { $0 != ":" }) } }

        public init(text: String, writer: String, fallback: String? = nil, promptVersion: String? = nil) {
            self.text = text
            self.writer = writer
            self.fallback = fallback
            self.promptVersion = promptVersion
        }
    }

    public var topics: [Topic]
    /// What the model calls for these texts cost.
    public var usage = LLMUsage()

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

    public func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws
        -> SummaryTexts
    {
        .extractive(plan)
    }
}
