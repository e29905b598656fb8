import Foundation
import Synchronization
import MemoryStore

/// Who holds a job lease: `host/pid/token`. The host and pid let a process on the same host
/// see that a holder has died (kill -9) and take its lease at once instead of waiting for expiry.
public struct LeaseHolder: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    public var token: String

    public static func current() -> LeaseHolder {
        LeaseHolder(
            host: ProcessInfo.processInfo.hostName, pid: getpid(),
            token: String(UUID().uuidString.prefix(8)).lowercased())
    }

    public var description: String { "\(host)/\(pid)/\(token)" }

    /// True only when the holder is certainly gone: same host, and no such process.
    public static func isDead(_ holder: String) -> Bool {
        let parts = holder.split(separator: "/")
        guard parts.count == 3, String(parts[0]) == ProcessInfo.processInfo.hostName,
            let pid = Int32(parts[1]), pid > 0
        else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

/// Renews a held lease between batches, once a third of its lifetime has passed.
final class LeaseKeeper: Sendable {
    let store: MemoryStore
    let job: String
    let holder: String
    let ttl: UnixMillis
    let clock: any WallClock
    private let renewedAt: Mutex<UnixMillis>

    init(store: MemoryStore, job: String, holder: String, ttl: UnixMillis, clock: any WallClock) {
        self.store = store
        self.job = job
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        renewedAt = Mutex(clock.now())
    }

    func keep() async throws {
        let now = clock.now()
        guard now - renewedAt.withLock({ $0 }) >= ttl / 3 else { return }
        guard try await store.renewLease(job: job, holder: holder, now: now, ttl: ttl) else {
            throw JobError.leaseLost(job: job)
        }
        renewedAt.withLock { $0 = now }
    }
}

public enum JobError: Error, CustomStringConvertible {
    case leaseLost(job: String)
    case timedOut(job: String, limit: Duration)
    case noEmbedder

    public var description: String {
        switch self {
        case .leaseLost(let job): "lost the lease of job \(job) (expired and taken over); stopped after the last committed batch"
        case .timedOut(let job, let limit):
            "job \(job) ran past its timeout of \(limit) (jobs.\(job).timeout); cancelled, its open batch rolled back"
        case .noEmbedder: "no embedding model is configured (embeddings.provider is none, or auto without the model files)"
        }
    }
}
