/// How long a job pauses between two batches. Another process's writer waits for the lock in
/// SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25… ms between attempts: a short
/// pause is over before it looks again, so it can miss many in a row. While another process is
/// writing (the store's `data_version` moved since the previous pause), the job pauses for
/// `contended`, longer than the handler's longest sleep, so the waiter's next attempt falls in
/// the pause; `calmAfter` batches without such a write bring back the short pause.
public struct PausePolicy: Sendable, Equatable {
    public var quiet: Duration
    public var contended: Duration
    public var calmAfter: Int
    private var lastVersion: Int64?
    private var batchesSinceOtherWrite = Int.max

    public init(quiet: Duration, contended: Duration, calmAfter: Int = 8) {
        self.quiet = quiet
        self.contended = contended
        self.calmAfter = calmAfter
    }

    /// The pause after a batch, given the store's `data_version` read now.
    public mutating func pause(dataVersion: Int64) -> Duration {
        if let lastVersion, lastVersion != dataVersion {
            batchesSinceOtherWrite = 0
        } else if batchesSinceOtherWrite < Int.max {
            batchesSinceOtherWrite += 1
        }
        lastVersion = dataVersion
        return batchesSinceOtherWrite < calmAfter ? max(quiet, contended) : quiet
    }
}
