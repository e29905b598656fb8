import MemoryStore

/// Everything the jobs need from the configuration file, already validated and in store units.
public struct MaintenanceConfiguration: Sendable, Equatable {
    public var orphans = Orphans()
    public var consolidation = Consolidation()
    public var decay = Decay()
    public var purge = Purge()
    public var embed = Embed()
    public var jobs = Jobs()

    public init() {}

    public struct Orphans: Sendable, Equatable {
        public var maxSleep: Duration = .seconds(60)
        public var batchSize = 500
        public init() {}
    }

    /// `consolidation.summarizer`: who words topic summaries.
    public enum SummarizerKind: String, Sendable, Equatable, CaseIterable {
        /// The plan's lines; deterministic, offline.
        case extractive
        /// A chat model (`llm.*`), gated by `SummaryGate`.
        case llm
    }

    public struct Consolidation: Sendable, Equatable {
        public var maxSessions = 50
        public var batchSessions = 30
        public var minAge: UnixMillis = 30 * .day
        public var summaryImportance = SummaryImportance.auto
        public var summarizer = SummarizerKind.extractive
        public var archiveRetention: UnixMillis = 90 * .day
        /// Lines per topic summary.
        public var maxSummaryFacts = 40
        public var maxTopics = 6
        public var maxSummaryCharacters = 800
        /// Facts below this importance are archived with provenance but summarized nowhere.
        public var minFactImportance = 0.5
        /// Cosine similarity from which two facts with vectors are one fact.
        public var duplicateSimilarity = 0.92
        /// Size trigger: an agent whose live, unconsolidated memory text is longer is
        /// consolidated oldest-first until it is back under 80 % of it. nil: no size trigger.
        public var maxLiveCharacters: Int?
        public init() {}
    }

    /// The importance of a topic summary.
    public enum SummaryImportance: Sendable, Equatable {
        /// The highest importance among the topic's kept facts, capped at `autoCap`: a summary
        /// of critical facts stays above recall's usual floor (0.72) yet below fresh critical
        /// facts (0.85–0.9), so fresh context still wins.
        case auto
        case fixed(Double)

        public static let autoCap = 0.8

        public func value(keptImportances: [Double]) -> Double {
            switch self {
            case .auto: min(Self.autoCap, keptImportances.max() ?? 0)
            case .fixed(let value): value
            }
        }
    }

    public struct Decay: Sendable, Equatable {
        public var archived = DecayPolicy.exponential(halfLife: 30 * .day, floor: 0)
        public var policies: [MemoryType: DecayPolicy] = [:]
        public var archiveBelow = 0.05
        public var batchSize = 1000
        public init() {}
    }

    public struct Purge: Sendable, Equatable {
        /// Deleting a memory also deletes its full-text entry: 250 keeps a batch near 15 ms on
        /// the benchmark store, so a foreground writer waits less than that.
        public var batchSize = 250
        public var exportDirectory: String?
        public var jobRunsRetention: UnixMillis = 30 * .day
        /// Webhook ids are remembered for twice the ±5 min signature tolerance: after that a
        /// replay is rejected by its timestamp alone.
        public var webhookReceiptsRetention: UnixMillis = 10 * .minute
        /// After this many deletions in one run, checkpoint the WAL and vacuum some pages.
        public var reclaimAfterRows = 10_000
        public var vacuumPages = 2048
        public init() {}
    }

    public struct Embed: Sendable, Equatable {
        /// Memories per provider call and per write transaction.
        public var batchSize = 64
        public init() {}
    }

    public struct Jobs: Sendable, Equatable {
        /// Time per run; a job stops after the batch that crosses it and continues next run.
        public var budget: [JobName: Duration] = [
            .orphans: .seconds(10), .consolidate: .seconds(60), .decay: .seconds(60), .purge: .seconds(60),
            .embed: .seconds(60),
        ]
        /// Time between scheduled runs of the periodic jobs; orphans is driven by deadlines.
        public var interval: [JobName: Duration] = [
            .consolidate: .seconds(3600), .decay: .seconds(3600), .purge: .seconds(300),
            // New memories of this process wake the job at once; the interval catches those
            // other processes wrote.
            .embed: .seconds(60),
        ]
        /// Up to this much is added at random to each scheduled time, so daemons sharing a
        /// store (or many hosts sharing a timer) spread out.
        public var jitter: [JobName: Duration] = [
            .orphans: .zero, .consolidate: .seconds(300), .decay: .seconds(300), .purge: .seconds(30),
            .embed: .zero,
        ]
        /// A job's write transaction commits once it has held the lock this long (or at its row
        /// limit): the longest a foreground writer waits for a job.
        public var maxBatchTime: Duration = .milliseconds(10)
        /// Hard limit of one run: past it the run is cancelled and its open batch rolled back.
        public var timeout: [JobName: Duration] = [
            .orphans: .seconds(60), .consolidate: .seconds(600), .decay: .seconds(600), .purge: .seconds(600),
            .embed: .seconds(600),
        ]
        /// After a failed run the job waits this long, doubling per consecutive failure up to
        /// `backoffMax`.
        public var backoffInitial: Duration = .seconds(5)
        public var backoffMax: Duration = .seconds(900)
        /// Pause between batches; nil: the store's default (see `batchPause(writersShareOneLock:)`).
        /// Set, it throttles a job's batches on either backend.
        public var batchPause: Duration?
        /// Pause between batches while another process writes to the store: longer than the
        /// 25 ms SQLite's busy handler sleeps at most, so its writer finds the lock free.
        public var contendedPause: Duration = .milliseconds(30)
        /// How long a lease lasts without renewal; renewed between batches.
        public var leaseTTL: Duration = .seconds(60)
        public init() {}

        /// The pause between a job's batches: `batchPause` when set; else 2 ms where all writers
        /// take turns on one lock (SQLite), so foreground writers get it, and none where they
        /// lock only the rows they change (PostgreSQL).
        public func batchPause(writersShareOneLock: Bool) -> Duration {
            batchPause ?? (writersShareOneLock ? .milliseconds(2) : .zero)
        }
    }
}

extension Duration {
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
