import MemoryService
import MemoryStore
import Synchronization

/// The daemon's operational state as the health routes report it: ready once migrations ran
/// and the listener is bound, draining once shutdown began, and which configuration is in force.
public final class ServiceState: Sendable {
    private struct State {
        var ready = false
        var stopping = false
        var configurationGeneration = 1
        var configurationLoadedAt: UnixMillis
    }

    public let startedAt: UnixMillis
    private let state: Mutex<State>

    public init(startedAt: UnixMillis) {
        self.startedAt = startedAt
        state = Mutex(State(configurationLoadedAt: startedAt))
    }

    public var isReady: Bool { state.withLock { $0.ready && !$0.stopping } }
    public var isStopping: Bool { state.withLock { $0.stopping } }
    public var configuration: (generation: Int, loadedAt: UnixMillis) {
        state.withLock { ($0.configurationGeneration, $0.configurationLoadedAt) }
    }

    public func markReady() { state.withLock { $0.ready = true } }
    public func markStopping() { state.withLock { $0.stopping = true } }

    /// A reloaded configuration is in force.
    public func configurationReloaded(at now: UnixMillis) {
        state.withLock {
            $0.configurationGeneration += 1
            $0.configurationLoadedAt = now
        }
    }
}
