import Logging
import NIOSSL
import PostgresNIO

/// The PostgreSQL side of the store: a pooled client and the statements that differ from
/// SQLite's. What decides (validation, planners, ranking) stays in `MemoryStore`; this type only
/// talks to the database.
final class PostgresEngine: Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger

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
        try await mapErrors {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
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
        try await mapErrors {
            try await client.withConnection { connection in
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
    }

    /// Runs `body` on a pooled connection outside any explicit transaction (each statement
    /// commits on its own).
    func autocommit<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await mapErrors { try await client.withConnection { try await body($0) } }
    }

    /// Errors of the server that are the caller's (a CHECK failed) as `StoreError`s; the others
    /// keep the server's message, which PSQLError's description hides.
    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw StoreError.backend(Self.describe(error))
        }
    }

    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "PostgreSQL: \(message)\(state)"
        }
        return "PostgreSQL: \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
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
