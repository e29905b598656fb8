import CSystemd
import Foundation

/// The service manager's notification protocol (`sd_notify`): READY, RELOADING, STOPPING,
/// STATUS and WATCHDOG. Without `NOTIFY_SOCKET` every call is a silent no-op, so the same code
/// runs under systemd, in a terminal and in tests.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// True when a service manager listens (`NOTIFY_SOCKET` is set).
    public var isEnabled: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// The watchdog interval systemd expects pings within (`WATCHDOG_USEC`, for this pid), or
    /// nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }

    public func ready(status: String? = nil) {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// `RELOADING=1` with the monotonic time systemd (Type=notify-reload) wants alongside.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send(["RELOADING=1", "MONOTONIC_USEC=\(microseconds)"])
    }

    public func stopping() { send(["STOPPING=1"]) }

    public func status(_ text: String) { send(["STATUS=\(text)"]) }

    public func watchdog() { send(["WATCHDOG=1"]) }

    func send(_ assignments: [String]) {
        guard isEnabled else { return }
        _ = sd_notify(0, assignments.joined(separator: "\n"))
    }
}
