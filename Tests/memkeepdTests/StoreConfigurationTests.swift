import Foundation
import MemoryStore
@testable import memkeepd
import Testing
import TestSupport

/// `store.url` (and its alias `store.path`), `store.password_file`, `store.connections`.
@Suite struct StoreConfigurationTests {
    @Test(arguments: [
        ("store:\n  path: /var/lib/memkeep/m.db\n", StoreLocation.sqlite(path: "/var/lib/memkeep/m.db")),
        ("store:\n  url: sqlite:/srv/m.db\n", .sqlite(path: "/srv/m.db")),
        (
            "store:\n  url: postgres://memkeep@db.internal:5433/memory?sslmode=require\n",
            .postgres(PostgresLocation(host: "db.internal", port: 5433, user: "memkeep", database: "memory", sslMode: .require))
        ),
    ])
    func theStoreURLOrPathNamesTheStore(yaml: String, expected: StoreLocation) throws {
        #expect(try loadTestYAML(yaml).storeLocation == expected)
    }

    @Test(arguments: [
        ("store:\n  url: postgres://memkeep:hunter2@db/memory\n", "test.yaml:2: store.url: must not hold a password"),
        ("store:\n  url: redis://db/0\n", "test.yaml:2: store.url: has the unknown scheme \"redis:\""),
        ("store:\n  url: \"\"\n", "test.yaml:2: store.url: must not be empty"),
        ("store:\n  connections: 1\n", "test.yaml:2: store.connections: must be"),
    ])
    func aBadStoreSettingIsNamedWithItsLine(yaml: String, message: String) {
        #expect {
            try loadTestYAML(yaml)
        } throws: { error in
            "\(error)".contains(message) && !"\(error)".contains("hunter2")
        }
    }

    @Test func aStoreURLWinsOverTheUnitsStorePathWhereverEachIsSet() throws {
        let configuration = try ConfigurationLoader.load(
            path: Self.file("store:\n  url: postgres://memkeep@db/memory\n"),
            environment: ["MEMKEEP_STORE_PATH": "/var/lib/memkeep/memkeep.db"])
        #expect(configuration.storeLocation == .postgres(PostgresLocation(host: "db", user: "memkeep", database: "memory")))
    }

    static func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func thePasswordComesFromItsFileOrTheCredentialAndIsNeverPrinted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "s3cret\n".write(to: directory.appendingPathComponent("store-password"), atomically: true, encoding: .utf8)
        var configuration = try loadTestYAML("store:\n  url: postgres://memkeep@db/memory\n")
        let fromCredential = try configuration.storeLocationWithPassword(environment: ["CREDENTIALS_DIRECTORY": directory.path])
        guard case .postgres(let location) = fromCredential else { Issue.record("not PostgreSQL"); return }
        #expect(location.password == "s3cret")
        #expect(!"\(fromCredential)".contains("s3cret"))
        configuration.storePasswordFile = directory.appendingPathComponent("missing").path
        #expect {
            try configuration.storeLocationWithPassword(environment: [:])
        } throws: { error in
            "\(error)".contains("store.password_file") && "\(error)".contains("does not exist")
        }
    }

    @Test func anUnreachableDatabaseStopsStartUpNamingItWithoutItsPassword() async throws {
        let m = try Memkeepd([
            "MEMKEEP_STORE_URL": "postgres://memkeep_test@127.0.0.1:1/none?sslmode=disable",
        ])
        var unreachable = m
        unreachable.environment["MEMKEEP_STORE_PATH"] = nil
        unreachable.environment["MEMKEEP_STORE_PASSWORD_FILE"] = try m.write("pw", "hunter2")
        let result = try await unreachable.run("status")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot open the store at postgres://memkeep_test@127.0.0.1:1/none"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }
}
