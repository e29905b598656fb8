import MemoryStore

/// What one run of one job did: the figures of `memkeepd run`'s report, the `job_runs` row and
/// the journal entry.
public struct JobReport: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case ok, failed, skipped
    }

    public var job: JobName
    public var status: Status
    public var examined = 0
    public var changed = 0
    public var durationMs = 0.0
    /// False when the run stopped at its time budget with work left for the next run.
    public var complete = true
    /// For a run that stopped at its budget: about how many rows the job still has to handle
    /// (the store's count of its backlog), so that a one-shot run can say how much is left.
    public var left: Int?
    public var runID: Int64?
    public var error: String?
    /// Who holds the lease when the job was skipped.
    public var heldBy: String?

    public var closedSessions: [String]?
    public var summaries: [String]?
    /// Consolidation ids of the run; each names a batch's summaries for `restore`.
    public var consolidations: [String]?
    /// How many sources met each fate (`kept`, `merged`, `duplicate_of`, …).
    public var fates: [String: Int]?
    /// The LLM summarizer's calls, tokens (prompt and completion) and fallbacks by reason.
    public var llmCalls: Int?
    public var llmPromptTokens: Int?
    public var llmCompletionTokens: Int?
    public var llmFallbacks: [String: Int]?
    /// A dry run's summaries as they would be written: text, who wrote it, why an LLM text fell back.
    public var previews: [Preview]?

    public struct Preview: Sendable, Equatable, Codable {
        public var agentID: String
        public var text: String
        public var writer: String
        public var fallback: String?

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case text, writer, fallback
        }
    }
    /// How long the run's write transactions held the lock (the batch-time histogram in
    /// `/metrics` has every one).
    public var batches: BatchSummary?
    public var sessionsConsolidated: Int?
    public var decayed: Int?
    public var archived: Int?
    public var deletedMemories: Int?
    public var deletedArchived: Int?
    public var embedded: Int?

    public init(job: JobName, status: Status = .ok) {
        self.job = job
        self.status = status
    }

    /// One report for two runs of the job in a row (`memkeepd run --until-done`): counts added,
    /// lists joined, the status, completeness and run id of the later run.
    public mutating func absorb(_ next: JobReport) {
        func sum(_ a: Int?, _ b: Int?) -> Int? { a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0) }
        func join<T>(_ a: [T]?, _ b: [T]?) -> [T]? { a == nil && b == nil ? nil : (a ?? []) + (b ?? []) }
        status = next.status
        complete = next.complete
        runID = next.runID ?? runID
        error = next.error
        heldBy = next.heldBy
        examined += next.examined
        changed += next.changed
        durationMs += next.durationMs
        closedSessions = join(closedSessions, next.closedSessions)
        summaries = join(summaries, next.summaries)
        consolidations = join(consolidations, next.consolidations)
        previews = join(previews, next.previews)
        if let more = next.fates { fates = (fates ?? [:]).merging(more, uniquingKeysWith: +) }
        if let more = next.llmFallbacks { llmFallbacks = (llmFallbacks ?? [:]).merging(more, uniquingKeysWith: +) }
        llmCalls = sum(llmCalls, next.llmCalls)
        llmPromptTokens = sum(llmPromptTokens, next.llmPromptTokens)
        llmCompletionTokens = sum(llmCompletionTokens, next.llmCompletionTokens)
        sessionsConsolidated = sum(sessionsConsolidated, next.sessionsConsolidated)
        decayed = sum(decayed, next.decayed)
        archived = sum(archived, next.archived)
        deletedMemories = sum(deletedMemories, next.deletedMemories)
        deletedArchived = sum(deletedArchived, next.deletedArchived)
        embedded = sum(embedded, next.embedded)
        batches = BatchSummary(merging: batches, next.batches)
    }

    /// What the LLM summarizer spent in the run, also on batches not written (changed
    /// meanwhile, prepared when the run stopped or failed): they were paid for.
    mutating func recordLLM(_ spent: LLMUsage, fallbacks: [String: Int]) {
        guard spent.calls > 0 || !fallbacks.isEmpty else { return }
        llmCalls = spent.calls
        llmPromptTokens = spent.promptTokens
        llmCompletionTokens = spent.completionTokens
        llmFallbacks = fallbacks
    }

    enum CodingKeys: String, CodingKey {
        case job, status, examined, changed, complete, left, error
        case durationMs = "duration_ms"
        case runID = "run_id"
        case heldBy = "held_by"
        case closedSessions = "closed_sessions"
        case summaries, consolidations, fates
        case llmCalls = "llm_calls"
        case llmPromptTokens = "llm_prompt_tokens"
        case llmCompletionTokens = "llm_completion_tokens"
        case llmFallbacks = "llm_fallbacks"
        case previews, batches
        case sessionsConsolidated = "sessions_consolidated"
        case decayed, archived
        case deletedMemories = "deleted_memories"
        case deletedArchived = "deleted_archived"
        case embedded
    }
}

/// The write transactions of a run: how many, and how long they held the lock.
public struct BatchSummary: Sendable, Equatable, Codable {
    public var count: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    /// Nil for a run that wrote nothing.
    public init?(_ milliseconds: [Double]) {
        guard !milliseconds.isEmpty else { return nil }
        let sorted = milliseconds.sorted()
        func rank(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)] }
        count = sorted.count
        p50Ms = rank(0.5)
        p99Ms = rank(0.99)
        maxMs = sorted.last!
    }

    /// Two runs' summaries as one: counts added, the worst p99 and longest batch kept, the p50
    /// of the run with more batches (the exact median would need every batch).
    init?(merging first: BatchSummary?, _ second: BatchSummary?) {
        guard let first, let second else {
            guard let one = first ?? second else { return nil }
            self = one
            return
        }
        count = first.count + second.count
        p50Ms = first.count >= second.count ? first.p50Ms : second.p50Ms
        p99Ms = max(first.p99Ms, second.p99Ms)
        maxMs = max(first.maxMs, second.maxMs)
    }

    enum CodingKeys: String, CodingKey {
        case count
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case maxMs = "max_ms"
    }
}
