import MemoryStore
import Synchronization

/// Stops calling a failing model server for a while: after `failures` consecutive failed calls
/// it opens for `cooldown`, and every batch in that time keeps its extractive text without a
/// call. One success closes it. Shared by every run of the process.
public final class CircuitBreaker: Sendable {
    public let failures: Int
    public let cooldown: UnixMillis
    private let state = Mutex<(consecutive: Int, openUntil: UnixMillis?)>((0, nil))

    public init(failures: Int = 5, cooldown: UnixMillis = 10 * .minute) {
        self.failures = failures
        self.cooldown = cooldown
    }

    /// When it is open at `now`, the time it closes; nil when calls may go.
    public func openUntil(now: UnixMillis) -> UnixMillis? {
        state.withLock { state in
            guard let until = state.openUntil, now < until else { return nil }
            return until
        }
    }

    public func record(success: Bool, now: UnixMillis) {
        state.withLock { state in
            guard !success else {
                state = (0, nil)
                return
            }
            state.consecutive += 1
            if state.consecutive >= failures {
                state = (0, now + cooldown)
            }
        }
    }
}
