import Logging
import MemoryStore
import Synchronization

/// What a job run gets: the store, the run's `now` (fixed for the whole run), and the pacing
/// between batches (pause, lease renewal, time budget).
public struct JobContext: Sendable {
    public var store: MemoryStore
    public var configuration: MaintenanceConfiguration
    public var now: UnixMillis
    public var dryRun: Bool
    /// Manual consolidation of one agent (`--agent`, the admin route).
    public var agent: String?
    public var logger: Logger
    let pacer: Pacer
    /// Told the rows each batch handled (a progress line of `memkeepd run` on a terminal).
    let progress: (@Sendable (Int) -> Void)?

    /// After a batch: `rows` more handled.
    func progressed(_ rows: Int) {
        if rows > 0 { progress?(rows) }
    }

    /// Between two batches: pauses so foreground writers get the lock, keeps the lease, and
    /// answers whether the run may take another batch within its budget.
    public func nextBatchAllowed() async throws -> Bool {
        try await pacer.nextBatchAllowed()
    }

    /// `jobs.max_batch_time` on the run's clock: when a write transaction commits early.
    public var batchBound: BatchBound {
        BatchBound(limit: configuration.jobs.maxBatchTime, now: { [clock = pacer.clock] in clock.now.offset })
    }
}

/// Paces a run: a budget on the monotonic clock (never the `--now` clock), pauses that make
/// room for other processes' writers (`PausePolicy`) and a hook to keep the job's lease alive.
final class Pacer: Sendable {
    let clock: AnyClock
    let deadline: AnyClock.Instant
    let pauses: Mutex<PausePolicy>
    /// The store's `data_version`: moves when another process commits.
    let dataVersion: @Sendable () async throws -> Int64
    let keepLease: @Sendable () async throws -> Void
    /// True once the daemon is shutting down: the run ends after the batch that just committed.
    let shouldStop: @Sendable () -> Bool

    init(
        clock: AnyClock, deadline: AnyClock.Instant, pauses: PausePolicy, dataVersion: @escaping @Sendable () async throws -> Int64,
        keepLease: @escaping @Sendable () async throws -> Void, shouldStop: @escaping @Sendable () -> Bool
    ) {
        self.clock = clock
        self.deadline = deadline
        self.pauses = Mutex(pauses)
        self.dataVersion = dataVersion
        self.keepLease = keepLease
        self.shouldStop = shouldStop
    }

    func nextBatchAllowed() async throws -> Bool {
        try Task.checkCancellation()
        guard clock.now < deadline, !shouldStop() else { return false }
        let version = try await dataVersion()
        let pause = pauses.withLock { $0.pause(dataVersion: version) }
        if pause > .zero { try await clock.sleep(for: pause) }
        try await keepLease()
        return true
    }
}

extension JobContext {
    /// Pages through a job's rows: calls `batch` from the start until it returns no next cursor.
    /// Returns false when the time budget stopped the paging first (work is left for next run).
    func forEachBatch(_ batch: (Cursor) async throws -> Cursor?) async throws -> Bool {
        var cursor = Cursor.start
        while let next = try await batch(cursor) {
            cursor = next
            guard try await nextBatchAllowed() else { return false }
        }
        return true
    }
}
