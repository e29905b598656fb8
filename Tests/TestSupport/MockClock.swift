import Maintenance
import MemoryStore
import Synchronization

/// A `Clock<Duration>` that moves only when a test advances it, after postgres-nio's
/// `MockClock`: sleepers wait until the test steps time past their deadline, and a test can
/// wait until a loop has gone to sleep before it steps. Its `wall` view turns the same time
/// into the Unix milliseconds the store and the planners use.
public final class MockClock: Clock, Sendable {
    public typealias Instant = AnyClock.Instant

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// How many sleeps have begun, for `sleepCalls(atLeast:)`.
        var sleepsBegun = 0
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    public let minimumResolution: Duration = .zero
    /// The Unix time the clock's zero stands for.
    public let epoch: UnixMillis

    public init(epoch: UnixMillis = TestStore.t0) {
        self.epoch = epoch
    }

    public var now: Instant { state.withLock { $0.now } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    state.sleepsBegun += 1
                    let ready = state.watchers.filter { $0.count <= state.sleepsBegun }.map(\.continuation)
                    state.watchers.removeAll { $0.count <= state.sleepsBegun }
                    if deadline <= state.now || Task.isCancelled { return (true, ready) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (false, ready)
                }
                watchers.forEach { $0.resume() }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Steps time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }

    /// Steps time to `wall` Unix milliseconds (never backwards).
    public func advance(toWall wall: UnixMillis) {
        let target = Duration.milliseconds(wall - epoch)
        let current = now.offset
        if target > current { advance(by: target - current) }
    }

    /// Returns once `count` sleeps have begun since the clock was made: a loop has gone to sleep.
    public func sleepCalls(atLeast count: Int) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.sleepsBegun >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    public var sleepsBegun: Int { state.withLock { $0.sleepsBegun } }

    /// The deadlines of everyone asleep now, earliest first.
    public var pendingDeadlines: [Instant] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    /// Unix milliseconds on this clock.
    public var wall: MockWallClock { MockWallClock(clock: self) }
}

/// The wall-clock view of a `MockClock`.
public struct MockWallClock: WallClock {
    public let clock: MockClock

    public func now() -> UnixMillis {
        let offset = clock.now.offset.components
        return clock.epoch + offset.seconds * 1000 + offset.attoseconds / 1_000_000_000_000_000
    }
}

/// A clock that moves one millisecond each time it is read, and whose sleeps last until they
/// are cancelled: time-bounded batches end after a known number of rows, however fast or slow
/// the machine is.
public final class TickingClock: Clock, Sendable {
    public typealias Instant = AnyClock.Instant
    private let reads = Atomic<Int64>(0)
    public let minimumResolution: Duration = .zero
    public init() {}
    public var now: Instant { Instant(offset: .milliseconds(reads.add(1, ordering: .relaxed).newValue)) }
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await Task.sleep(for: .seconds(86_400))
    }
}

/// A clock whose short sleeps (a job's pauses) return at once, recorded with the time they asked
/// for; `onSleep` runs first with each one's index. Long sleeps (a run's timeout) wait for
/// cancellation, as on `TickingClock`.
public final class PauseRecordingClock: Clock, Sendable {
    public typealias Instant = AnyClock.Instant
    private let state = Mutex<(now: Duration, pauses: [Duration])>((.zero, []))
    private let onSleep: @Sendable (Int) async throws -> Void
    public let minimumResolution: Duration = .zero

    public init(onSleep: @escaping @Sendable (Int) async throws -> Void = { _ in }) { self.onSleep = onSleep }

    public var now: Instant { Instant(offset: state.withLock { $0.now }) }
    public var pauses: [Duration] { state.withLock { $0.pauses } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let index: Int? = state.withLock { state in
            let asked = deadline.offset - state.now
            guard asked <= .seconds(1) else { return nil }
            state.pauses.append(asked)
            state.now = max(state.now, deadline.offset)
            return state.pauses.count - 1
        }
        guard let index else { return try await Task.sleep(for: .seconds(86_400)) }
        try await onSleep(index)
    }
}
