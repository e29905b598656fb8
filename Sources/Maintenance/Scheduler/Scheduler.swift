import Logging
import MemoryStore
import ServiceLifecycle
import Synchronization

/// What the scheduler tells its host: the STATUS line and watchdog pings (systemd in the
/// daemon; nothing in tests that don't care).
public struct SchedulerHooks: Sendable {
    public var status: @Sendable (String) -> Void
    public var watchdog: @Sendable () -> Void
    /// How often to ping; nil when no watchdog is armed.
    public var watchdogPeriod: Duration?

    public init(
        status: @escaping @Sendable (String) -> Void = { _ in }, watchdog: @escaping @Sendable () -> Void = {},
        watchdogPeriod: Duration? = nil
    ) {
        self.status = status
        self.watchdog = watchdog
        self.watchdogPeriod = watchdogPeriod
    }
}

/// The daemon's job scheduler: one loop per job (a long decay never delays an orphan
/// deadline), all in one task group under this service's `run()`. Runs go through the
/// `JobRunner`, so leases keep them single-flight across processes. On graceful shutdown the
/// loops stop scheduling and a running job ends after the batch in progress commits.
public final class Scheduler: Service, Sendable {
    struct State {
        var runner: JobRunner
        var plans: [JobName: JobPlan] = [:]
        var orphans = OrphanPlan()
        var liveness = Liveness()
        var stopping = false
        var wakeUps = 0
        /// Jobs asked to run as soon as their loop is free (new memories to embed).
        var requested: Set<JobName> = []
        var publishedStatus = ""
    }

    /// Every job that can run on an interval.
    public static let intervalJobs: [JobName] = [.consolidate, .decay, .purge, .embed]

    /// The jobs run on an interval; `embed` only with an embedder.
    public var periodicJobs: [JobName] { state.withLock { Self.periodicJobs(of: $0.runner) } }

    static func periodicJobs(of runner: JobRunner) -> [JobName] {
        [.consolidate, .decay, .purge] + (runner.embedder == nil ? [] : [.embed])
    }

    let store: MemoryStore
    let clock: any WallClock
    let logger: Logger
    let hooks: SchedulerHooks
    /// What the loops sleep on: the runner's clock, so run budgets and sleeps share one time.
    let timer: AnyClock
    private let state: Mutex<State>
    private let signals: [JobName: WakeSignal]
    private let watchdogSignal: WakeSignal

    public init(runner: JobRunner, clock: any WallClock, logger: Logger, hooks: SchedulerHooks = SchedulerHooks()) {
        self.store = runner.store
        self.clock = clock
        self.logger = logger
        self.hooks = hooks
        timer = runner.clock
        state = Mutex(State(runner: runner))
        signals = Dictionary(uniqueKeysWithValues: JobName.allCases.map { ($0, WakeSignal(clock: runner.clock)) })
        watchdogSignal = WakeSignal(clock: runner.clock)
    }

    public var configuration: MaintenanceConfiguration { state.withLock { $0.runner.configuration } }

    /// How often the loops have woken up since start: an idle daemon wakes only for its own
    /// deadlines and the watchdog.
    public var wakeUps: Int { state.withLock { $0.wakeUps } }

    /// Applies a reloaded configuration; every loop re-plans with it at once.
    public func update(configuration: MaintenanceConfiguration) {
        state.withLock { $0.runner = $0.runner.reconfigured(configuration) }
        signals.values.forEach { $0.signal() }
    }

    /// An idle deadline this process just set (session start, heartbeat, activity): the orphan
    /// loop wakes at once when it is earlier than what it sleeps for.
    public func noteIdleDeadline(_ deadline: UnixMillis) {
        if state.withLock({ $0.orphans.noteDeadline(deadline) }) { signals[.orphans]?.signal() }
    }

    /// New memories were stored: the `embed` loop runs as soon as it is free (a run in
    /// progress is followed by another, so none waits for the interval).
    public func noteNewMemories() {
        state.withLock { _ = $0.requested.insert(.embed) }
        signals[.embed]?.signal()
    }

    /// Runs a job now for the API (admin route, agent consolidation), with the configuration in
    /// force and the daemon's lease holder, so it is single-flight with the scheduled runs.
    public func runNow(_ job: JobName, trigger: JobTrigger, dryRun: Bool, agent: String? = nil) async -> JobReport {
        let runner = state.withLock { $0.runner }
        return await runner.run(job, trigger: trigger, now: clock.now(), dryRun: dryRun, agent: agent)
    }

    public var statusLine: String {
        state.withLock { state in
            SchedulerStatus.line(
                plans: Self.periodicJobs(of: state.runner).compactMap { state.plans[$0] }, orphans: state.orphans, now: clock.now(),
                maxSleep: state.runner.configuration.orphans.maxSleep)
        }
    }

    public func run() async throws {
        try await planPeriodicJobs()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.orphanLoop() }
                group.addTask { await self.deadlineWatchLoop() }
                for job in periodicJobs {
                    group.addTask { await self.periodicLoop(job) }
                }
                if let period = hooks.watchdogPeriod {
                    group.addTask { await self.watchdogLoop(period: period) }
                }
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.stopping = true }
            self.signals.values.forEach { $0.signal() }
            self.watchdogSignal.signal()
        }
        logger.notice("scheduler stopped")
    }

    /// Graceful shutdown, or cancellation: when another service of the group fails (the HTTP
    /// listener cannot bind), the group cancels this one, and a loop that only watched for
    /// graceful shutdown would spin on its cancelled sleeps forever.
    var isStopping: Bool { state.withLock { $0.stopping } || Task.isCancelled }

    /// Picks up where the store's `job_runs` left off, whoever ran the jobs.
    func planPeriodicJobs() async throws {
        let last = try await store.lastJobRuns()
        let now = clock.now()
        state.withLock { state in
            for job in Self.periodicJobs(of: state.runner) {
                let complete = last.first { $0.job == job.rawValue && $0.status == "ok" && $0.complete && !$0.dryRun }
                state.plans[job] = .initial(
                    job: job, lastCompleteRunAt: complete?.finishedAt, now: now, jobs: state.runner.configuration.jobs,
                    jitterFraction: .random(in: 0...1))
            }
        }
        publishStatus()
    }

    func periodicLoop(_ job: JobName) async {
        while !isStopping {
            let now = clock.now()
            let due = state.withLock { state in
                state.requested.remove(job) == nil ? state.plans[job]!.nextDue : now
            }
            if now < due {
                await sleep(job, for: due - now)
                continue
            }
            let report = await run(job, now: now)
            state.withLock { state in
                state.plans[job]!.record(
                    report, at: clock.now(), jobs: state.runner.configuration.jobs, jitterFraction: .random(in: 0...1))
            }
            publishStatus()
        }
        state.withLock { $0.liveness.finished(job.rawValue) }
    }

    func orphanLoop() async {
        while !isStopping {
            let now = clock.now()
            let (action, jobs) = state.withLock { state in
                (state.orphans.next(now: now, maxSleep: state.runner.configuration.orphans.maxSleep),
                 state.runner.configuration.jobs)
            }
            switch action {
            case .sleep(let until):
                await sleep(.orphans, for: until - now)
            case .lookUp:
                state.withLock { $0.orphans.beginLookUp() }
                do {
                    let deadline = try await store.nextIdleDeadline()
                    state.withLock { $0.orphans.lookedUp(deadline: deadline, at: now) }
                } catch {
                    logger.error(
                        "cannot read the next idle deadline: \(error)", metadata: [LogKey.job: .string(JobName.orphans.rawValue)])
                    state.withLock { $0.orphans.lookUpFailed(at: now, jobs: jobs) }
                }
            case .sweep:
                let report = await run(.orphans, now: now)
                state.withLock { $0.orphans.record(report, at: clock.now(), jobs: jobs) }
                publishStatus()
            }
        }
        state.withLock { $0.liveness.finished(JobName.orphans.rawValue) }
    }

    /// Hears the idle deadlines other processes set (PostgreSQL's LISTEN; a SQLite store has no
    /// such channel and the loop ends at once). A lost channel is listened to again after a
    /// second; each time it starts listening the sweep asks the store, for what it missed.
    func deadlineWatchLoop() async {
        while !isStopping {
            do {
                try await cancelWhenGracefulShutdown {
                    try await self.store.watchIdleDeadlines { [weak self] event in self?.heard(event) }
                }
                return
            } catch {
                guard !isStopping, !Task.isCancelled else { return }
                logger.warning(
                    "lost the store's idle-deadline channel, listening again in 1 s: \(error)",
                    metadata: [LogKey.job: .string(JobName.orphans.rawValue)])
                try? await timer.sleep(until: timer.now + .seconds(1))
            }
        }
    }

    func heard(_ event: IdleDeadlineEvent) {
        switch event {
        case .listening:
            state.withLock { $0.orphans.storeMayHaveChanged() }
            signals[.orphans]?.signal()
        case .deadline(let deadline):
            noteIdleDeadline(deadline)
        }
    }

    /// Pings the watchdog while every loop keeps its word; a wedged loop silences it.
    func watchdogLoop(period: Duration) async {
        var reported: [String] = []
        while !isStopping {
            let overdue = state.withLock { $0.liveness.overdue(at: timer.now) }
            if overdue.isEmpty {
                hooks.watchdog()
                publishStatus()
            } else if overdue != reported {
                logger.critical(
                    "scheduler loop stuck, no longer pinging the watchdog: \(overdue.joined(separator: ", "))")
            }
            reported = overdue
            await watchdogSignal.wait(until: timer.now + period)
        }
    }

    func run(_ job: JobName, now: UnixMillis) async -> JobReport {
        let runner = state.withLock { state in
            state.liveness.expect(
                job.rawValue, by: timer.now + (state.runner.configuration.jobs.timeout[job] ?? .seconds(600)))
            return state.runner
        }
        return await runner.run(job, trigger: .schedule, now: now, dryRun: false) { [weak self] in
            self?.isStopping ?? true
        }
    }

    func sleep(_ job: JobName, for millis: UnixMillis) async {
        let wakeUp = timer.now + .milliseconds(millis)
        state.withLock { $0.liveness.expect(job.rawValue, by: wakeUp) }
        await signals[job]!.wait(until: wakeUp)
        state.withLock { $0.wakeUps += 1 }
    }

    /// Sends the STATUS line when its text changed: every notification is a datagram the
    /// service manager has to read.
    func publishStatus() {
        let line = statusLine
        let changed = state.withLock { state in
            defer { state.publishedStatus = line }
            return state.publishedStatus != line
        }
        if changed { hooks.status(line) }
    }
}
