import Synchronization

/// Wakes a sleeping scheduler loop early: a new, earlier deadline, a reloaded configuration, or
/// shutdown. A signal sent while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    let clock: AnyClock

    init(clock: AnyClock) {
        self.clock = clock
    }

    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at `deadline` on the clock, or earlier when signalled or cancelled.
    func wait(until deadline: AnyClock.Instant) async {
        guard deadline > clock.now else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [clock] in try? await clock.sleep(until: deadline) }
            group.addTask { await self.next() }
            await group.next()
            group.cancelAll()
        }
    }

    private func next() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    // Checked under the lock the cancellation handler takes, so a cancellation
                    // can never slip between this check and storing the waiter.
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }?.resume()
        }
    }
}
