import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The PostgreSQL side of the store: a pooled client and the statements that differ from
/// SQLite's. What decides (validation, planners, ranking) stays in `MemoryStore`; this type only
/// talks to the database.
final class PostgresEngine: Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    /// Whether the last statement failed for want of the database, so that an outage is logged
    /// once when it begins and once when it ends.
    private let unreachable = Atomic<Bool>(false)

    /// The channel on which a node announces an idle deadline it set, so that the orphan sweep,
    /// wherever it runs, wakes for it.
    static let deadlineChannel = "memkeep_idle_deadline"

    /// Rows written by one statement of a job's transaction (purge, orphans); the time bound
    /// is checked between statements. At the default batch sizes a batch is one or two
    /// statements: no store-wide lock waits on them here, only the rows they change.
    static let setChunk = 256

    init(location: PostgresLocation, connections: Int, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: Self.tls(location.sslMode))
        configuration.options.maximumConnections = max(2, connections)
        configuration.options.connectTimeout = .seconds(10)
        client = PostgresClient(configuration: configuration, backgroundLogger: PoolLogHandler.logger(wrapping: logger))
        self.location = location
        self.logger = logger
    }

    private static func tls(_ mode: PostgresLocation.SSLMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable:
            return .disable
        case .prefer:
            return .prefer(.makeClientConfiguration())
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyFull:
            return .require(.makeClientConfiguration())
        }
    }

    /// One connection made and closed outside the pool, before it starts: an unreachable
    /// server, a refused password or a missing database fails start-up at once with the
    /// server's reason, where the pool would retry in the background.
    func probe() async throws {
        let tls: PostgresConnection.Configuration.TLS =
            switch location.sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require:
                try {
                    var configuration = TLSConfiguration.makeClientConfiguration()
                    configuration.certificateVerification = .none
                    return .require(try NIOSSLContext(configuration: configuration))
                }()
            case .verifyFull: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            throw StoreError.backend(Self.describe(error))
        }
    }

    /// Runs `body` in one transaction on a pooled connection; a dry run rolls it back. A job
    /// run's `BatchTimes` gets how long it lasted.
    func transaction<T: Sendable>(
        dryRun: Bool = false, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await transaction(begin: "BEGIN", dryRun: dryRun, body)
    }

    /// Runs `body` in one read-only transaction whose statements all see one snapshot: a read
    /// made of several statements (a recall's vectors and its embed queue) must not see a
    /// write commit between them.
    func snapshot<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    private func transaction<T: Sendable>(
        begin: PostgresQuery, dryRun: Bool = false, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            let started = ContinuousClock.now
            try await connection.query(begin, logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query(dryRun ? "ROLLBACK" : "COMMIT", logger: logger)
                BatchTimes.current?.record(since: started)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection outside any explicit transaction (each statement
    /// commits on its own).
    func autocommit<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { try await body($0) }
    }

    /// `body` on a pooled connection. The server's errors become `StoreError.backend` with the
    /// server's message, which PSQLError's description hides. A database out of reach (no
    /// connection to be had, or one cut mid-statement) is `StoreError.unavailable`.
    func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let result: T
            if unreachable.load(ordering: .relaxed) {
                result = try await leased(within: Self.outageLeaseLimit, body)
            } else {
                var leased = false
                do {
                    result = try await client.withConnection { connection in
                        leased = true
                        return try await body(connection)
                    }
                } catch where !leased && !(error is PSQLError) && !(error is CancellationError) {
                    // The pool's own error: connecting has failed for a while (its circuit breaker).
                    throw NoConnection(reason: "\(error)")
                }
            }
            if unreachable.load(ordering: .relaxed), unreachable.exchange(false, ordering: .relaxed) {
                logger.notice("PostgreSQL at \(location) is reachable again")
            }
            return result
        } catch let error as PSQLError {
            guard Self.isOutage(error) else { throw StoreError.backend(Self.describe(error)) }
            throw outage(Self.describe(error))
        } catch let error as NoConnection {
            throw outage("no connection could be made: \(error.reason)")
        }
    }

    /// How long a statement waits for a connection once the database was found out of reach.
    /// The pool alone would queue it until its circuit breaker trips, about a minute; clients
    /// would time out first, instead of getting a 503 to retry on.
    static let outageLeaseLimit = Duration.seconds(5)

    private struct NoConnection: Error {
        var reason: String
    }

    private final class LeaseMark: Sendable {
        let taken = Atomic<Bool>(false)
    }

    /// `body` on a pooled connection, or `NoConnection` when none is had within `limit`.
    private func leased<T: Sendable>(
        within limit: Duration, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let mark = LeaseMark()
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        mark.taken.store(true, ordering: .relaxed)
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                while let next = try await group.next() {
                    if let result = next {
                        group.cancelAll()
                        return result
                    }
                    if !mark.taken.load(ordering: .relaxed) {
                        group.cancelAll()
                        throw NoConnection(reason: "none within \(limit)")
                    }
                }
                throw CancellationError()
            }
        }
    }

    private func outage(_ reason: String) -> StoreError {
        if !unreachable.exchange(true, ordering: .relaxed) {
            logger.error("cannot reach PostgreSQL at \(location), requests answer 503 until it is back: \(reason)")
        }
        return .unavailable(reason)
    }

    /// Whether `error` says the database is out of reach rather than refusing a statement: the
    /// connection failed or was cut, or the server is shutting down, starting or full.
    static func isOutage(_ error: PSQLError) -> Bool {
        switch error.code {
        case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }

    static func describe(_ error: PSQLError) -> String {
        "PostgreSQL: " + detail(error)
    }

    private static func detail(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        let cause = error.underlying.map { underlying in
            ": " + ((underlying as? PSQLError).map(detail) ?? "\(underlying)")
        }
        return "\(error.code)" + (cause ?? "")
    }
}

extension PostgresRowSequence {
    /// Every row as `T`.
    func records<T: PostgresRecord>(_: T.Type) async throws -> [T] {
        var records: [T] = []
        for try await row in self { records.append(try T(row.makeRandomAccess())) }
        return records
    }

    /// The first column of the first row, if any.
    func scalar<T: PostgresDecodable>(_: T.Type) async throws -> T? {
        for try await row in self {
            let cell = row.makeRandomAccess()[0]
            return cell.bytes == nil ? nil : try cell.decode(T.self, context: .default)
        }
        return nil
    }
}

/// A row type read from PostgreSQL by column name.
protocol PostgresRecord {
    init(_ row: PostgresRandomAccessRow) throws
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as _: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }
}
