import Foundation

/// Where the store lives: a SQLite file (the embedded default) or a PostgreSQL database that
/// several memkeepd nodes share. Read from `store.url` (or its alias `store.path`).
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// `PATH`, `sqlite:PATH`, or `postgres://user@host:port/db?sslmode=…` (also `postgresql://`).
    /// A password in the URL is refused: URLs end up in logs, process lists and shell history;
    /// it comes from `store.password_file` or the `store-password` credential instead.
    public static func parse(_ text: String) throws(StoreLocationError) -> StoreLocation {
        guard !text.isEmpty else { throw StoreLocationError("must not be empty") }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return .postgres(try PostgresLocation.parse(text))
        }
        if let colon = text.firstIndex(of: ":"), !text.hasPrefix("/"), !text.hasPrefix(".") {
            let scheme = text[..<colon]
            if scheme == "sqlite" {
                let path = String(text[text.index(after: colon)...])
                guard !path.isEmpty else { throw StoreLocationError("sqlite: needs a path, as in sqlite:/var/lib/memkeep/memkeep.db") }
                return .sqlite(path: path)
            }
            if scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }), scheme.count > 1 {
                throw StoreLocationError(
                    "has the unknown scheme \"\(scheme):\"; use a file path, sqlite:PATH or postgres://user@host:port/db")
            }
        }
        return .sqlite(path: text)
    }

    /// The backend's name, for logs and errors.
    public var backend: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}

public struct StoreLocationError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A PostgreSQL database. The password is set apart from the URL and never printed.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP (loopback, a private network).
        case disable
        /// TLS when the server offers it, with the certificate verified when it is used.
        case prefer
        /// TLS or no connection; the certificate is not verified (libpq's `require`).
        case require
        /// TLS with the certificate and the host name verified.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var sslMode: SSLMode
    /// From `store.password_file` or the credential; nil: trust or peer authentication.
    public var password: String?

    public init(
        host: String, port: Int = 5432, user: String, database: String, sslMode: SSLMode = .prefer,
        password: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.sslMode = sslMode
        self.password = password
    }

    /// The URL as configured, without any password: what logs and `status` show.
    public var description: String {
        "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    static func parse(_ text: String) throws(StoreLocationError) -> PostgresLocation {
        let afterScheme = text[text.range(of: "://")!.upperBound...]
        let (beforeQuery, query) = afterScheme.split(at: "?")
        let (authority, databasePart) = beforeQuery.split(at: "/")
        guard let databasePart, !databasePart.isEmpty else {
            throw StoreLocationError("needs a database name, as in postgres://memkeep@127.0.0.1:5432/memkeep")
        }
        let (userPart, hostPart) = authority.lastIndex(of: "@").map {
            (Optional(authority[..<$0]), authority[authority.index(after: $0)...])
        } ?? (nil, authority)
        guard let userPart, !userPart.isEmpty else {
            throw StoreLocationError("needs a user name, as in postgres://memkeep@127.0.0.1:5432/memkeep")
        }
        guard !userPart.contains(":") else {
            throw StoreLocationError(
                "must not hold a password (URLs reach logs and process lists); put it in store.password_file or the store-password credential")
        }
        var host = Substring(hostPart)
        var port = 5432
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw StoreLocationError("has an unclosed [ in its host") }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw StoreLocationError("has text after its [host]: \(rest)") }
                port = try Self.port(rest.dropFirst())
            }
        } else if let colon = host.lastIndex(of: ":") {
            port = try Self.port(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw StoreLocationError("needs a host, as in postgres://memkeep@127.0.0.1:5432/memkeep") }
        var sslMode = SSLMode.prefer
        for pair in (query ?? "").split(separator: "&") {
            let (name, value) = pair.split(at: "=")
            switch name {
            case "sslmode":
                guard let value, let mode = SSLMode(rawValue: String(value)) else {
                    throw StoreLocationError(
                        "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "password":
                throw StoreLocationError(
                    "must not hold a password (URLs reach logs and process lists); put it in store.password_file or the store-password credential")
            default:
                throw StoreLocationError("has the unknown parameter \"\(name)\"; only sslmode is read")
            }
        }
        return PostgresLocation(
            host: try percentDecoded(host, part: "host"), port: port, user: try percentDecoded(userPart, part: "user"),
            database: try percentDecoded(databasePart, part: "database"), sslMode: sslMode)
    }

    private static func port(_ text: Substring) throws(StoreLocationError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw StoreLocationError("has the port \"\(text)\"; it must be a number from 1 to 65535")
        }
        return port
    }

    private static func percentDecoded(_ text: Substring, part: String) throws(StoreLocationError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw StoreLocationError("has a bad %-escape in its \(part)")
        }
        return decoded
    }
}

extension Substring {
    /// The text before the first `separator` and, if there is one, the text after it.
    fileprivate func split(at separator: Character) -> (Substring, Substring?) {
        guard let found = firstIndex(of: separator) else { return (self, nil) }
        return (self[..<found], self[index(after: found)...])
    }
}
