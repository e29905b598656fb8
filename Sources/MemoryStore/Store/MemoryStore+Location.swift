import Logging
import PostgresNIO

/// What the store's deadline watch reports.
public enum IdleDeadlineEvent: Sendable, Equatable {
    /// The watch is (again) listening: deadlines set before now were not heard, so the store
    /// must be asked.
    case listening
    /// Another node (or this one) set this idle deadline.
    case deadline(UnixMillis)
}

extension MemoryStore {
    /// Opens the store at `location` for the duration of `body`: a SQLite file, or a PostgreSQL
    /// database whose connection pool runs while `body` does and is closed after it.
    @discardableResult
    public static func withStore<T: Sendable>(
        at location: StoreLocation, configuration: StoreConfiguration = .init(), clock: any WallClock = SystemClock(),
        access: Access = .readWrite, logger: Logger = Logger(label: "memkeep.store"),
        _ body: @Sendable (MemoryStore) async throws -> T
    ) async throws -> T {
        switch location {
        case .sqlite(let path):
            return try await body(MemoryStore(path: path, configuration: configuration, clock: clock, access: access))
        case .postgres(let postgresLocation):
            let postgres = PostgresEngine(
                location: postgresLocation, connections: configuration.connections, logger: logger)
            try await postgres.probe()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await postgres.client.run() }
                defer { group.cancelAll() }
                let store = try await MemoryStore(
                    postgres: postgres, configuration: configuration, clock: clock, access: access)
                return try await body(store)
            }
        }
    }

    /// A second instance on the same store, as another process would open it: caches of its
    /// own (and, on SQLite, connections of its own).
    public func reopened() throws -> MemoryStore {
        switch engine {
        case .sqlite:
            try MemoryStore(path: path, configuration: configuration, clock: clock)
        case .postgres(let postgres):
            MemoryStore(engine: .postgres(postgres), path: path, configuration: configuration, clock: clock)
        }
    }

    private convenience init(
        postgres: PostgresEngine, configuration: StoreConfiguration, clock: any WallClock, access: Access
    ) async throws {
        switch access {
        case .readWrite:
            try await PostgresSchema.migrate(postgres)
        case .readOnly:
            guard try await PostgresSchema.isMigrated(postgres) else {
                throw StoreError.invalidArgument(
                    field: "store", reason: "has an older schema than this memkeepd; run `memkeepd migrate` first")
            }
        }
        self.init(engine: .postgres(postgres), path: postgres.location.description, configuration: configuration, clock: clock)
    }

    /// Reports idle deadlines set by any process on the store until cancelled. On PostgreSQL
    /// that is every node (`LISTEN`); a SQLite store has no channel between processes and
    /// returns at once (the orphan sweep re-reads it every `orphans.max_sleep` instead).
    public func watchIdleDeadlines(_ handler: @escaping @Sendable (IdleDeadlineEvent) -> Void) async throws {
        guard case .postgres(let postgres) = engine else { return }
        try await postgres.watchDeadlines(handler)
    }
}

extension PostgresEngine {
    func watchDeadlines(_ handler: @escaping @Sendable (IdleDeadlineEvent) -> Void) async throws {
        try await withConnection { connection in
            try await connection.listen(on: Self.deadlineChannel) { notifications in
                handler(.listening)
                for try await notification in notifications {
                    if let deadline = Int64(notification.payload) { handler(.deadline(deadline)) }
                }
            }
        }
    }
}
