import Embeddings
import Logging
import MemoryStore
import Metrics

/// Runs one job the way every trigger needs it: single flight through the job's lease, a
/// `job_runs` row, the time budget, and one log entry with the figures.
public struct JobRunner: Sendable {
    public var store: MemoryStore
    public var configuration: MaintenanceConfiguration
    public var logger: Logger
    public var holder: LeaseHolder
    /// An injected summarizer; nil: the extractive one the configuration describes.
    public var injectedSummarizer: (any Summarizer)?
    /// What the `embed` job (and recall) embed with; nil: lexical recall only, no `embed` job.
    public var embedder: (any TextEmbedder)?
    /// Real time for leases, whatever clock the jobs run on.
    public var leaseClock: any WallClock
    /// What budgets, batch pauses and timeouts are measured and slept on.
    public var clock: AnyClock
    public var metrics: JobMetrics

    public init(
        store: MemoryStore, configuration: MaintenanceConfiguration, logger: Logger,
        holder: LeaseHolder = .current(), summarizer: (any Summarizer)? = nil, embedder: (any TextEmbedder)? = nil, leaseClock: any WallClock = SystemClock(),
        clock: AnyClock = .continuous, metrics: JobMetrics = JobMetrics()
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.holder = holder
        self.injectedSummarizer = summarizer
        self.embedder = embedder
        self.leaseClock = leaseClock
        self.clock = clock
        self.metrics = metrics
    }

    public var summarizer: any Summarizer {
        injectedSummarizer ?? ExtractiveSummarizer()
    }

    /// The same runner with a reloaded configuration: everything injected stays.
    public func reconfigured(_ configuration: MaintenanceConfiguration) -> JobRunner {
        var runner = self
        runner.configuration = configuration
        return runner
    }

    /// Never throws: a failure is reported (and recorded) as a failed run. A run past
    /// `jobs.<job>.timeout` is cancelled, which rolls its open batch back. `shouldStop` ends the
    /// run after the batch in progress commits (graceful shutdown). `progress` hears the rows
    /// each batch handled.
    public func run(
        _ job: JobName, trigger: JobTrigger, now: UnixMillis, dryRun: Bool, agent: String? = nil,
        shouldStop: @escaping @Sendable () -> Bool = { false }, progress: (@Sendable (Int) -> Void)? = nil
    ) async -> JobReport {
        let started = clock.now
        let holderID = holder.description
        let ttl = configuration.jobs.leaseTTL.milliseconds
        var logger = logger
        logger[metadataKey: LogKey.job] = .string(job.rawValue)
        logger[metadataKey: LogKey.dryRun] = .stringConvertible(dryRun)
        var report = JobReport(job: job)
        do {
            let lease = try await store.acquireLease(
                job: job.rawValue, holder: holderID, now: leaseClock.now(), ttl: ttl, isHolderDead: LeaseHolder.isDead)
            if case .heldBy(let other, _) = lease {
                report.status = .skipped
                report.heldBy = other
                logger.notice("job skipped: another process holds its lease", metadata: [LogKey.holder: .string(other)])
                return report
            }
        } catch {
            report.status = .failed
            report.error = "\(error)"
            logger.error("job failed to take its lease: \(error)", metadata: [LogKey.messageID: .string(MessageID.jobFailed)])
            return report
        }
        defer { report.durationMs = milliseconds(since: started) }
        var runID: Int64?
        var ledger: SpendLedger?
        let batchTimes = BatchTimes()
        do {
            runID = try await store.beginJobRun(
                job: job.rawValue, trigger: trigger, holder: holderID, now: now, dryRun: dryRun)
            logger[metadataKey: LogKey.runID] = .stringConvertible(runID!)
            let keeper = LeaseKeeper(store: store, job: job.rawValue, holder: holderID, ttl: ttl, clock: leaseClock)
            let context = JobContext(
                store: store, configuration: configuration, now: now, dryRun: dryRun, agent: agent, logger: logger,
                pacer: Pacer(
                    clock: clock, deadline: started + (configuration.jobs.budget[job] ?? .seconds(60)),
                    pauses: PausePolicy(
                        quiet: configuration.jobs.batchPause(writersShareOneLock: store.writersShareOneLock),
                        contended: configuration.jobs.contendedPause),
                    dataVersion: { [store] in try await store.dataVersion() }, keepLease: keeper.keep, shouldStop: shouldStop),
                progress: progress)
            let summarizer = summarizer
            let embedder = embedder
            let spend = SpendLedger(store: store, runID: runID, clock: leaseClock)
            ledger = spend
            report = try await BatchTimes.$current.withValue(batchTimes) {
                try await withTimeout(configuration.jobs.timeout[job] ?? .seconds(600), job: job) {
                    try await Self.execute(job, context: context, summarizer: summarizer, embedder: embedder, ledger: spend)
                }
            }
        } catch {
            report.status = .failed
            report.error = "\(error)"
            if let ledger { report.recordLLM(ledger.run, fallbacks: [:]) }
            if case StoreError.storageFull(_, true) = error {
                logger.error("the store's disk is full: \(error)", metadata: [LogKey.messageID: .string(MessageID.storageFull)])
            }
        }
        report.runID = runID
        report.durationMs = milliseconds(since: started)
        report.batches = BatchSummary(batchTimes.milliseconds)
        if let runID {
            do {
                try await store.finishJobRun(
                    id: runID, now: now,
                    outcome: JobRunOutcome(
                        status: report.status == .ok ? .ok : .failed, examined: report.examined,
                        changed: report.changed, complete: report.complete, durationMs: report.durationMs,
                        error: report.error, llmFallbacks: report.llmFallbacks))
            } catch {
                logger.error("could not record the job run: \(error)")
            }
        }
        try? await store.releaseLease(job: job.rawValue, holder: holderID)
        log(report, logger: logger)
        metrics.record(report, batchTimes: batchTimes.milliseconds)
        return report
    }

    /// Runs `body` in a child task that is cancelled once `limit` has passed.
    func withTimeout<T: Sendable>(
        _ limit: Duration, job: JobName, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { [clock] group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw JobError.timedOut(job: job.rawValue, limit: limit)
            }
            return value
        }
    }

    static func execute(
        _ job: JobName, context: JobContext, summarizer: any Summarizer, embedder: (any TextEmbedder)?,
        ledger: SpendLedger
    ) async throws -> JobReport {
        switch job {
        case .orphans: try await OrphanSweep.run(context)
        case .consolidate:
            try await ConsolidationJob.run(context, summarizer: summarizer, model: embedder?.vectorModel, ledger: ledger)
        case .decay: try await DecayJob.run(context)
        case .purge: try await PurgeJob.run(context)
        case .embed: try await EmbedJob.run(context, embedder: embedder)
        }
    }

    func log(_ report: JobReport, logger: Logger) {
        var metadata: Logger.Metadata = [
            LogKey.examined: .stringConvertible(report.examined), LogKey.changed: .stringConvertible(report.changed),
            LogKey.durationMs: .string(String(format: "%.1f", report.durationMs)),
            LogKey.complete: .stringConvertible(report.complete),
        ]
        for (fate, count) in report.fates ?? [:] { metadata[LogKey.fate(fate)] = .stringConvertible(count) }
        if let summaries = report.summaries { metadata[LogKey.summaries] = .stringConvertible(summaries.count) }
        if let calls = report.llmCalls {
            metadata[LogKey.llmCalls] = .stringConvertible(calls)
            metadata[LogKey.llmPromptTokens] = .stringConvertible(report.llmPromptTokens ?? 0)
            metadata[LogKey.llmCompletionTokens] = .stringConvertible(report.llmCompletionTokens ?? 0)
            let fallbacks = (report.llmFallbacks ?? [:]).sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            metadata[LogKey.llmFallbacks] = .stringConvertible(fallbacks.map(\.value).reduce(0, +))
            if !fallbacks.isEmpty { metadata[LogKey.fallbackReason] = .string(fallbacks.map(\.key).joined(separator: ",")) }
        }
        if report.status == .failed {
            metadata[LogKey.messageID] = .string(MessageID.jobFailed)
            metadata[LogKey.error] = .string(report.error ?? "")
            logger.error("job \(report.job.rawValue) failed: \(report.error ?? "")", metadata: metadata)
        } else {
            metadata[LogKey.messageID] = .string(MessageID.jobFinished)
            logger.info(
                "job \(report.job.rawValue) finished: \(report.changed) changed of \(report.examined) examined",
                metadata: metadata)
        }
    }

    func milliseconds(since start: AnyClock.Instant) -> Double {
        let elapsed = start.duration(to: clock.now)
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
