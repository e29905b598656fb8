import Foundation
import Logging
import MemoryStore
import PostgresNIO
import Testing

/// The backends every store, job and API test runs on.
public enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }
}

/// The PostgreSQL cluster of the tests: `.ci/run` starts it on loopback with the role
/// `memkeep_test` (password `memkeep_test`, CREATEDB). `MEMKEEP_TEST_POSTGRES` names another
/// (`postgres://user@host:port/db`), with its password in `MEMKEEP_TEST_POSTGRES_PASSWORD`.
public enum TestPostgres {
    public static var server: PostgresLocation {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["MEMKEEP_TEST_POSTGRES"], case .postgres(var location) = try? StoreLocation.parse(url) {
            location.password = environment["MEMKEEP_TEST_POSTGRES_PASSWORD"]
            return location
        }
        return PostgresLocation(
            host: "127.0.0.1", user: "memkeep_test", database: "postgres", sslMode: .disable, password: "memkeep_test")
    }

    /// A new, empty database for the duration of `body`, dropped afterwards (its connections
    /// closed first: a failed test must not leave one behind).
    @discardableResult
    public static func withDatabase<T: Sendable>(_ body: @Sendable (PostgresLocation) async throws -> T) async throws -> T {
        var location = server
        let name = "memkeep_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // One at a time (across test processes too): PostgreSQL refuses a CREATE DATABASE while
        // another one copies the same template.
        try await admin("SELECT pg_advisory_lock(7103)", "CREATE DATABASE \(name)", "SELECT pg_advisory_unlock(7103)")
        location.database = name
        do {
            let result = try await body(location)
            try await admin("DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await admin("DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Runs statements on the cluster's `postgres` database (or `database`), in order, on a
    /// connection of their own. A server's refusal comes back with its message.
    public static func admin(_ statements: String..., database: String? = nil) async throws {
        try await withConnection(database: database) { connection, logger in
            do {
                for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            } catch let error as PSQLError {
                throw AdminError(statement: statements.joined(separator: "; "), message: error.serverInfo?[.message] ?? "\(error.code)")
            }
        }
    }

    /// A connection of its own on the cluster's `postgres` database (or `database`) for the
    /// duration of `body`: a test plays another node's transaction on it, statement by statement.
    public static func withConnection<T: Sendable>(
        database: String? = nil, _ body: (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let location = server
        let logger = Logger(label: "memkeep.test.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: database ?? location.database, tls: .disable),
            id: 1, logger: logger)
        do {
            let result = try await body(connection, logger)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Waits until a backend of `database` other than `connection`'s waits on a lock (a row
    /// another transaction holds). The bound only ends a failed test.
    public static func waitForALockWaiter(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            // Statistics are read once per transaction unless cleared.
            try await connection.query("SELECT pg_stat_clear_snapshot()", logger: logger)
            let rows = try await connection.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
                """, logger: logger)
            for try await count in rows.decode(Int64.self) where count > 0 { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    struct AdminError: Error, CustomStringConvertible {
        var statement: String
        var message: String
        var description: String { "\(statement): \(message)" }
    }
}
