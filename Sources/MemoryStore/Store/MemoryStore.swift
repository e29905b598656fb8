import Foundation
import GRDB
import Synchronization

public struct StoreConfiguration: Sendable, Equatable {
    /// How long a writer waits for the lock before SQLITE_BUSY. Never zero: jobs, the daemon and
    /// embedders share the file.
    public var busyTimeout: Duration
    /// The idle timeout of sessions that do not set their own; 0 means never.
    public var defaultIdleTimeoutSeconds: Int64
    /// Bound of the in-memory copy of recently recalled agents' vectors.
    public var vectorCacheBytes: Int
    /// Read connections (`store.readers`): each holds its own page cache, so fewer keep the
    /// daemon small; on two cores more would not read faster.
    public var readers: Int
    /// PostgreSQL: the most connections of the pool (`store.connections`). One is held by the
    /// deadline watch while the daemon runs.
    public var connections: Int

    public init(
        busyTimeout: Duration = .seconds(5), defaultIdleTimeoutSeconds: Int64 = 1800, vectorCacheBytes: Int = 64 << 20,
        readers: Int = 2, connections: Int = 8
    ) {
        self.busyTimeout = busyTimeout
        self.defaultIdleTimeoutSeconds = defaultIdleTimeoutSeconds
        self.vectorCacheBytes = vectorCacheBytes
        self.readers = readers
        self.connections = connections
    }
}

/// The shared store: a SQLite file or a PostgreSQL database. One instance per process; every SQL
/// statement of memkeep lives in this module, and the front ends and jobs see only this type.
public final class MemoryStore: Sendable {
    enum Engine: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresEngine)
    }

    let engine: Engine
    public let clock: any WallClock
    public let configuration: StoreConfiguration
    /// Where the store is, as operators see it: the file's path, or the PostgreSQL URL without
    /// its password.
    public let path: String
    let vectors: VectorCache
    let lexical: LexicalCache
    /// The hot API writes' shared transactions.
    let group = GroupCommit()
    private let accesses = Atomic<Int>(0)
    /// Whether the last write failed for a full disk: the next such failure is the same episode.
    private let diskFull = Atomic<Bool>(false)

    /// How many reads and write transactions this process has made on the store: the daemon
    /// exports it so an operator (and a test) can see that an idle daemon leaves the file alone.
    public var accessCount: Int { accesses.load(ordering: .relaxed) }

    func countAccess() { accesses.add(1, ordering: .relaxed) }

    public enum Access: Sendable {
        /// Creates the file if needed and runs pending migrations.
        case readWrite
        /// For commands that only read (status, export): nothing is created, set or migrated,
        /// so a store on a read-only file system or owned by someone else still answers.
        case readOnly
    }

    init(engine: Engine, path: String, configuration: StoreConfiguration, clock: any WallClock) {
        self.engine = engine
        self.clock = clock
        self.configuration = configuration
        self.path = path
        self.vectors = VectorCache(capacityBytes: configuration.vectorCacheBytes)
        self.lexical = LexicalCache(capacityBytes: configuration.vectorCacheBytes)
    }

    /// Opens the SQLite store at `path`.
    public convenience init(
        path: String, configuration: StoreConfiguration = .init(), clock: any WallClock = SystemClock(),
        access: Access = .readWrite
    ) throws {
        var config = Configuration()
        if access == .readOnly {
            config.readonly = true
        } else {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let seconds = Double(configuration.busyTimeout.components.seconds)
            + Double(configuration.busyTimeout.components.attoseconds) / 1e18
        config.busyMode = .timeout(seconds)
        config.maximumReaderCount = max(1, configuration.readers)
        config.prepareDatabase { db in
            // Only takes effect on a new, empty file, which is exactly when it must be set;
            // reader connections are read-only and cannot set it.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                // The writer rewrites the same index and full-text pages batch after batch:
                // keeping them cached saves a read syscall per page per batch.
                try db.execute(sql: "PRAGMA cache_size = -16384")
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        self.init(engine: .sqlite(pool), path: path, configuration: configuration, clock: clock)
        switch access {
        case .readWrite:
            try Schema.migrator.migrate(pool)
        case .readOnly:
            guard try pool.read({ db in try Schema.migrator.hasCompletedMigrations(db) }) else {
                throw StoreError.invalidArgument(
                    field: "store", reason: "has an older schema than this memkeepd; run `memkeepd migrate` first")
            }
        }
    }

    /// SQLite's `data_version` of the writer connection: it moves when another connection, that
    /// is another process, commits to the store, and never for this process's own writes. On
    /// PostgreSQL it stays 0: writers take row locks, not one store-wide lock.
    /// Whether all writers take turns on one lock (SQLite), so a job's batches pause to hand it
    /// to foreground writers. PostgreSQL's writers lock only the rows they change.
    public var writersShareOneLock: Bool {
        if case .sqlite = engine { true } else { false }
    }

    public func dataVersion() async throws -> Int64 {
        switch engine {
        case .sqlite(let pool):
            try await pool.writeWithoutTransaction { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        case .postgres:
            0
        }
    }

    /// Whether every migration this build knows has been applied.
    public func isMigrated() async throws -> Bool {
        switch engine {
        case .sqlite(let pool): try await pool.read { db in try Schema.migrator.hasCompletedMigrations(db) }
        case .postgres(let postgres): try await PostgresSchema.isMigrated(postgres)
        }
    }

    /// The SQLite pool of the operations that run on SQLite alone so far; on PostgreSQL they
    /// fail with an error that names them.
    func sqlitePool(_ operation: String) throws -> DatabasePool {
        switch engine {
        case .sqlite(let pool): pool
        case .postgres: throw StoreError.unsupported(operation: operation, backend: "PostgreSQL")
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction; a dry run rolls it back, so it reports
    /// exactly what the real run would change and changes nothing.
    func transaction<T: Sendable>(
        dryRun: Bool = false, operation: String = #function, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        countAccess()
        let pool = try sqlitePool(operation)
        do {
            let times = BatchTimes.current
            let result = try await pool.writeWithoutTransaction { db in
                var result: T?
                let started = ContinuousClock.now
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return dryRun ? .rollback : .commit
                }
                times?.record(since: started)
                return result!
            }
            if diskFull.load(ordering: .relaxed) { diskFull.store(false, ordering: .relaxed) }
            return result
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            let newEpisode = !diskFull.exchange(true, ordering: .relaxed)
            throw StoreError.storageFull(path: path, newEpisode: newEpisode)
        }
    }

    func read<T: Sendable>(operation: String = #function, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        countAccess()
        return try await sqlitePool(operation).read(body)
    }

    /// A fresh time-ordered id (UUIDv7 layout): ids sort by creation time, which keeps exports and
    /// index inserts in order.
    public static func newID(now: UnixMillis) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, now))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        var generator = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = generator.next() }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A keyset position: the sort key and the rowid of the last row seen. Jobs page with it so that
/// a dry run, which changes nothing, still advances.
public struct Cursor: Sendable, Equatable {
    public var key: Int64
    public var rowid: Int64
    public static let start = Cursor(key: .min, rowid: .min)
    public init(key: Int64, rowid: Int64) {
        self.key = key
        self.rowid = rowid
    }
}
