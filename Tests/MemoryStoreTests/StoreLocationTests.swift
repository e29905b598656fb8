import MemoryStore
import Testing

@Suite struct StoreLocationTests {
    @Test(arguments: [
        ("./var/memkeep.db", StoreLocation.sqlite(path: "./var/memkeep.db")),
        ("/var/lib/memkeep/memkeep.db", .sqlite(path: "/var/lib/memkeep/memkeep.db")),
        ("sqlite:/var/lib/memkeep/m.db", .sqlite(path: "/var/lib/memkeep/m.db")),
        ("memkeep.db", .sqlite(path: "memkeep.db")),
        (
            "postgres://memkeep@db.internal:6432/memory?sslmode=verify-full",
            .postgres(PostgresLocation(host: "db.internal", port: 6432, user: "memkeep", database: "memory", sslMode: .verifyFull))
        ),
        (
            "postgresql://memkeep@127.0.0.1/memkeep",
            .postgres(PostgresLocation(host: "127.0.0.1", user: "memkeep", database: "memkeep", sslMode: .prefer))
        ),
        (
            "postgres://mem%40keep@[::1]:5433/m%2Fk?sslmode=disable",
            .postgres(PostgresLocation(host: "::1", port: 5433, user: "mem@keep", database: "m/k", sslMode: .disable))
        ),
    ])
    func aStoreURLNamesItsBackend(text: String, expected: StoreLocation) throws {
        #expect(try StoreLocation.parse(text) == expected)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("sqlite:", "sqlite: needs a path"),
        ("mysql://u@h/db", "unknown scheme \"mysql:\""),
        ("postgres://u:secret@h/db", "must not hold a password"),
        ("postgres://u@h/db?password=secret", "must not hold a password"),
        ("postgres://h/db", "needs a user name"),
        ("postgres://u@h", "needs a database name"),
        ("postgres://u@h:99999/db", "port \"99999\""),
        ("postgres://u@h:x/db", "port \"x\""),
        ("postgres://u@h/db?sslmode=sometimes", "sslmode must be one of disable, prefer, require, verify-full"),
        ("postgres://u@h/db?timeout=5", "unknown parameter \"timeout\""),
        ("postgres://u@/db", "needs a host"),
    ])
    func aBadStoreURLIsRefusedWithItsReason(text: String, reason: String) {
        #expect {
            try StoreLocation.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func thePasswordIsNeverShown() {
        let location = PostgresLocation(host: "h", user: "u", database: "d", password: "hunter2")
        #expect(!"\(StoreLocation.postgres(location))".contains("hunter2"))
        #expect("\(location)" == "postgres://u@h:5432/d?sslmode=prefer")
    }
}
