/// The clock the scheduler and the jobs sleep and time by: any `Clock<Duration>`, erased so that
/// the scheduler, its wake signals, the pacer, run timeouts, budgets and the watchdog share one
/// without being generic. The daemon passes `ContinuousClock`; tests pass a mock clock and step
/// time instead of waiting for it, as postgres-nio's pool tests do.
public struct AnyClock: Clock, Sendable {
    /// A point in time as the duration since the wrapped clock's reading at `init`.
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration, Duration?) async throws -> Void
    public let minimumResolution: Duration

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { deadline, tolerance in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: tolerance) }
        minimumResolution = clock.minimumResolution
    }

    /// Real monotonic time.
    public static var continuous: AnyClock { AnyClock(ContinuousClock()) }

    public var now: Instant { Instant(offset: elapsed()) }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleeper(deadline.offset, tolerance)
    }
}
