import Foundation
import Synchronization

/// Wall-clock time as integer Unix milliseconds, the unit the database stores.
public typealias UnixMillis = Int64

/// The source of "now" for everything that decides by time. Injected everywhere so tests and
/// `memkeepd run --now` can place the store anywhere in time.
public protocol WallClock: Sendable {
    func now() -> UnixMillis
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> UnixMillis {
        UnixMillis((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A clock that only moves when told to: `--now` runs and tests.
public final class ManualClock: WallClock {
    private let current: Mutex<UnixMillis>

    public init(_ start: UnixMillis) { current = Mutex(start) }

    public func now() -> UnixMillis { current.withLock { $0 } }

    public func set(_ time: UnixMillis) { current.withLock { $0 = time } }

    public func advance(seconds: Double) {
        current.withLock { $0 += UnixMillis(seconds * 1000) }
    }
}

extension UnixMillis {
    /// Unix seconds from outside (headers, tokens, bodies) as milliseconds; nil when the product
    /// does not fit, so no caller can crash the process with a large number.
    public static func fromSeconds(_ seconds: Int64) -> UnixMillis? {
        let (millis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : millis
    }

    public static let second: UnixMillis = 1000
    public static let minute: UnixMillis = 60_000
    public static let hour: UnixMillis = 3_600_000
    public static let day: UnixMillis = 86_400_000
}
