import Foundation
import MemoryStore
import Testing
import TestSupport

/// `memkeepd copy-store`: SQLite to PostgreSQL and back, byte-identical exports, and the bad
/// destinations refused before anything is written.
@Suite struct CopyStoreTests {
    @Test func aStoreCopiedToPostgreSQLAndBackExportsTheSameBytes() async throws {
        let sqlite = try Memkeepd(["MEMKEEP_EMBEDDINGS_PROVIDER": "none"])
        let seed = try sqlite.write("seed.jsonl", seedLines(agents: 5, sessions: 4, facts: 3, expiredExtra: 3))
        #expect(try await sqlite.run("import", seed).status == 0)
        #expect(try await sqlite.run("run", "consolidate", "--now", "2026-06-01T00:00:00Z").status == 0)
        let original = try await sqlite.run("export").stdout
        #expect(original.contains(#""fate":""#), "the copy carries consolidations and their fates")

        try await Memkeepd.with(.postgres, ["MEMKEEP_EMBEDDINGS_PROVIDER": "none"]) { postgres in
            let url = try #require(postgres.environment["MEMKEEP_STORE_URL"])
            let password = try #require(postgres.environment["MEMKEEP_STORE_PASSWORD_FILE"])
            let copied = try await sqlite.run("copy-store", "--to", url, "--to-password-file", password)
            #expect(copied.status == 0, "\(copied.stderr)")
            #expect(copied.stdout.contains("copied 20 sessions and"), "\(copied.stdout)")
            #expect(copied.stderr.isEmpty, "no progress line when standard error is not a terminal")
            #expect(try await postgres.run("export").stdout == original)

            // Into a store that holds something: refused, and it stays as it was.
            let again = try await sqlite.run("copy-store", "--to", url, "--to-password-file", password)
            #expect(again.status != 0 && again.stderr.contains("is not empty"), "\(again.stderr)")
            #expect(try await postgres.run("export").stdout == original)

            // And back, into a new SQLite file.
            let back = postgres.directory.appendingPathComponent("back.db").path
            let returned = try await postgres.run("copy-store", "--to", "sqlite:\(back)")
            #expect(returned.status == 0, "\(returned.stderr)")
            var reader = sqlite
            reader.environment["MEMKEEP_STORE_PATH"] = back
            #expect(try await reader.run("export").stdout == original)
        }
    }

    @Test(arguments: [
        ("mysql://u@h/db", "unknown scheme"),
        ("postgres://u:secret@127.0.0.1/db", "must not hold a password"),
        ("postgres://u@127.0.0.1/db?sslmode=maybe", "sslmode must be one of"),
    ])
    func aBadDestinationIsRefusedNamingIt(destination: String, reason: String) async throws {
        let m = try Memkeepd()
        #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1))).status == 0)
        let before = try await m.run("export").stdout
        let result = try await m.run("copy-store", "--to", destination)
        #expect(result.status == 64 && result.stderr.contains("--to") && result.stderr.contains(reason), "\(result.stderr)")
        #expect(try await m.run("export").stdout == before)
    }

    @Test func theConfiguredStoreIsNotItsOwnDestination() async throws {
        let m = try Memkeepd()
        #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1))).status == 0)
        let result = try await m.run("copy-store", "--to", m.storePath)
        #expect(result.status == 64 && result.stderr.contains("the configured store itself"), "\(result.stderr)")
    }
}
