/// The watchdog's cheap liveness check, without touching the store: every scheduler loop says
/// by when it will report in again (its wake-up time, or a running job's timeout), plus slack.
/// A loop past its word is wedged, and then the watchdog stops pinging so systemd restarts us.
public struct Liveness: Sendable, Equatable {
    public var expectations: [String: AnyClock.Instant] = [:]
    public static let slack: Duration = .seconds(30)

    public init() {}

    public mutating func expect(_ loop: String, by instant: AnyClock.Instant) {
        expectations[loop] = instant + Self.slack
    }

    public mutating func finished(_ loop: String) {
        expectations[loop] = nil
    }

    /// The loops that missed their word at `now`; empty when healthy.
    public func overdue(at now: AnyClock.Instant) -> [String] {
        expectations.filter { $0.value < now }.map(\.key).sorted()
    }
}
