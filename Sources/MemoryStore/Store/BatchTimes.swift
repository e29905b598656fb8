import Synchronization

/// How long each write transaction of a job run held the write lock: what a foreground writer
/// may have waited. The runner sets one as a task-local around a run; every transaction the run
/// makes (in any of its child tasks) records into it.
public final class BatchTimes: Sendable {
    @TaskLocal public static var current: BatchTimes?

    private let durations = Mutex<[Double]>([])

    public init() {}

    /// Records a transaction that began at `start` and has just ended.
    func record(since start: ContinuousClock.Instant) {
        let held = start.duration(to: .now).components
        let milliseconds = Double(held.seconds) * 1000 + Double(held.attoseconds) / 1e15
        durations.withLock { $0.append(milliseconds) }
    }

    /// Every transaction's time, in milliseconds, in order.
    public var milliseconds: [Double] { durations.withLock { $0 } }
}

/// Ends a job's write transaction at its row limit or at `limit` after it began, whichever
/// comes first (`jobs.max_batch_time`), so a foreground writer never waits longer. `now` is the
/// run's monotonic clock (a test's mock clock).
public struct BatchBound: Sendable {
    public var limit: Duration
    public var now: @Sendable () -> Duration

    public init(limit: Duration, now: @escaping @Sendable () -> Duration) {
        self.limit = limit
        self.now = now
    }

    /// Starts a transaction's timer: the returned check says when it is time to commit. No
    /// bound: only the row limit ends a transaction.
    static func start(_ bound: BatchBound?) -> @Sendable () -> Bool {
        guard let bound else { return { false } }
        let end = bound.now() + bound.limit
        return { [now = bound.now] in now() >= end }
    }
}
