import MemoryStore

/// What the orphan sweep does next. It never polls: it sleeps until the earliest idle deadline
/// it knows, asks the store again at least every `orphans.max_sleep` (sessions written by other
/// processes), and learns earlier deadlines from the API at once (`noteDeadline`).
public struct OrphanPlan: Sendable, Equatable {
    /// The earliest idle deadline known; nil when no open session has one.
    public var deadline: UnixMillis?
    /// When the store was last asked; nil means the knowledge is stale (start, after a sweep).
    public var checkedAt: UnixMillis?
    public var failures = 0
    public var retryAt: UnixMillis?
    public var lastRun: JobPlan.LastRun?
    /// The earliest deadline noted since the current look-up began: the look-up's answer may
    /// predate it, and must not erase it.
    var notedDuringLookUp: UnixMillis?

    public enum Action: Sendable, Equatable {
        /// Ask the store for the earliest deadline.
        case lookUp
        /// A deadline has passed: run the sweep.
        case sweep
        case sleep(until: UnixMillis)
    }

    public init() {}

    public func next(now: UnixMillis, maxSleep: Duration) -> Action {
        if let retryAt, now < retryAt { return .sleep(until: retryAt) }
        guard let checkedAt, now < checkedAt + maxSleep.milliseconds else { return .lookUp }
        if let deadline, deadline <= now { return .sweep }
        return .sleep(until: min(deadline ?? .max, checkedAt + maxSleep.milliseconds))
    }

    /// Called before the store is asked.
    public mutating func beginLookUp() {
        notedDuringLookUp = nil
    }

    public mutating func lookedUp(deadline: UnixMillis?, at now: UnixMillis) {
        self.deadline = [deadline, notedDuringLookUp].compactMap { $0 }.min()
        notedDuringLookUp = nil
        checkedAt = now
        retryAt = nil
    }

    /// A deadline set by this process (session start, touch, store): the plan only moves earlier.
    /// Returns whether the sweep must re-plan its sleep.
    @discardableResult
    public mutating func noteDeadline(_ new: UnixMillis) -> Bool {
        notedDuringLookUp = min(notedDuringLookUp ?? new, new)
        guard deadline.map({ new < $0 }) ?? true else { return false }
        deadline = new
        return true
    }

    /// Deadlines may have been set that nobody told us of: ask the store at the next step.
    public mutating func storeMayHaveChanged() {
        checkedAt = nil
    }

    public mutating func lookUpFailed(at now: UnixMillis, jobs: MaintenanceConfiguration.Jobs) {
        failures += 1
        retryAt = now + JobPlan.backoff(failures: failures, jobs: jobs).milliseconds
    }

    public mutating func record(_ report: JobReport, at now: UnixMillis, jobs: MaintenanceConfiguration.Jobs) {
        lastRun = JobPlan.LastRun(finishedAt: now, status: report.status, changed: report.changed)
        switch report.status {
        case .failed:
            failures += 1
            retryAt = now + JobPlan.backoff(failures: failures, jobs: jobs).milliseconds
        case .ok where !report.complete:
            failures = 0
            retryAt = now + JobPlan.continueAfter
        case .ok, .skipped:
            failures = 0
            retryAt = nil
            // The earliest deadline is gone (or another daemon swept): ask the store again.
            checkedAt = nil
        }
    }
}
