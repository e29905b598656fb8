import MemoryStore

/// Writes the text of a plan's topic summaries. The plan (topics, fates) is decided by
/// `SummaryPlanner`; a summarizer only words it.
public protocol Summarizer: Sendable {
    /// Recorded in each summary's metadata.
    var name: String { get }
    /// One text per topic, in order, each within the configured character cap.
    func texts(for plan: SummaryPlan) async throws -> [String]
}

/// The default summarizer: no network, deterministic; the plan's lines, one per fact.
public struct ExtractiveSummarizer: Summarizer {
    public let name = "extractive"
    public init() {}

    public func texts(for plan: SummaryPlan) async throws -> [String] {
        plan.topics.map(\.extractiveText)
    }
}
