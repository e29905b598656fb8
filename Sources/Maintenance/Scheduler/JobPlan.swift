import MemoryStore

/// When a periodic job (consolidate, decay, purge) runs next. Plain value logic: every decision
/// takes `now` and the random jitter fraction, so tests pin it down without a clock or a store.
public struct JobPlan: Sendable, Equatable {
    public var job: JobName
    public var nextDue: UnixMillis
    /// Consecutive failed runs; the backoff doubles with each.
    public var failures = 0
    public var lastRun: LastRun?

    /// A run that stopped at its budget (or at shutdown) continues after this short pause.
    public static let continueAfter: UnixMillis = 1000

    public struct LastRun: Sendable, Equatable {
        public var finishedAt: UnixMillis
        public var status: JobReport.Status
        public var changed: Int
    }

    public init(job: JobName, nextDue: UnixMillis) {
        self.job = job
        self.nextDue = nextDue
    }

    /// The first due time after start: one interval after the last complete run any process
    /// recorded (a restart or a timer run does not cause an extra run), at once when there is none.
    public static func initial(
        job: JobName, lastCompleteRunAt: UnixMillis?, now: UnixMillis, jobs: MaintenanceConfiguration.Jobs,
        jitterFraction: Double
    ) -> JobPlan {
        let interval = (jobs.interval[job] ?? .seconds(3600)).milliseconds
        let base = lastCompleteRunAt.map { max(now, $0 + interval) } ?? now
        return JobPlan(job: job, nextDue: base + jitter(jobs.jitter[job], fraction: jitterFraction))
    }

    /// Plans the next run after `report`: the interval (plus jitter) after success, a short pause
    /// when work was left, the backoff after a failure. A run skipped because another process
    /// holds the lease counts as done by that process.
    public mutating func record(
        _ report: JobReport, at now: UnixMillis, jobs: MaintenanceConfiguration.Jobs, jitterFraction: Double
    ) {
        lastRun = LastRun(finishedAt: now, status: report.status, changed: report.changed)
        let jitter = Self.jitter(jobs.jitter[job], fraction: jitterFraction)
        switch report.status {
        case .failed:
            failures += 1
            nextDue = now + Self.backoff(failures: failures, jobs: jobs).milliseconds + jitter
        case .ok where !report.complete:
            failures = 0
            nextDue = now + Self.continueAfter
        case .ok, .skipped:
            failures = 0
            nextDue = now + (jobs.interval[job] ?? .seconds(3600)).milliseconds + jitter
        }
    }

    /// `backoffInitial × 2^(failures−1)`, capped at `backoffMax`.
    public static func backoff(failures: Int, jobs: MaintenanceConfiguration.Jobs) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = jobs.backoffInitial
        for _ in 1..<min(failures, 40) {
            delay *= 2
            if delay >= jobs.backoffMax { return jobs.backoffMax }
        }
        return min(delay, jobs.backoffMax)
    }

    static func jitter(_ limit: Duration?, fraction: Double) -> UnixMillis {
        UnixMillis(Double((limit ?? .zero).milliseconds) * min(max(fraction, 0), 1))
    }
}
