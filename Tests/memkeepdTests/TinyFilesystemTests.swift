import Foundation
import MemoryStore
import Testing
import TestSupport

/// The store, an import and the purge export on a tmpfs that fills up or turns read-only:
/// nothing acknowledged is lost, clients get 507, and everything recovers when space returns.
@Suite(.serialized, .enabled(if: TinyFilesystem.available, "mounting a tmpfs needs root"))
struct TinyFilesystemTests {
    static let large = String(repeating: "disk-filling fact ", count: 2_000)

    @Test func serveAnswers507WhileTheDiskIsFullAndRecoversWhenSpaceReturns() async throws {
        try await TinyFilesystem.with(size: "8m") { fs in
            var m = try Memkeepd(["MEMKEEP_ORPHANS_MAX_SLEEP": "1h"])
            m.environment["MEMKEEP_STORE_PATH"] = fs.path("store.db")
            let daemon = try await m.serve()
            #expect(try await daemon.notify.next("READY=1") != nil)
            var acknowledged: [String] = []
            for index in 0..<10 {
                let reply = try await httpRequest(
                    daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "fact \#(index)"}"#)
                #expect(reply.status == 201)
                if let id = (reply.json?["memory"] as? [String: Any])?["id"] as? String { acknowledged.append(id) }
            }
            try fs.fill(leaving: 0)
            var full: HTTPResult?
            for _ in 0..<200 {
                let reply = try await httpRequest(
                    daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "\#(Self.large)"}"#)
                if reply.status == 201, let id = (reply.json?["memory"] as? [String: Any])?["id"] as? String {
                    acknowledged.append(id)
                } else {
                    full = reply
                    if reply.status == 507 { break }
                }
            }
            let refused = try #require(full, "the disk never filled")
            #expect(refused.status == 507, "\(refused.body)")
            #expect(refused.json?["code"] as? String == "STORAGE_FULL")
            #expect((refused.json?["error"] as? String)?.contains("disk is full") == true)
            // More refusals in the same episode, while reads go on.
            #expect(try await httpRequest(daemon.port, "POST", "/v1/sessions/start", #"{"agent_id": "a1"}"#).status == 507)
            #expect(try await httpGet(daemon.port, "/v1/memory/get/\(acknowledged[0])").status == 200)
            #expect(try await httpGet(daemon.port, "/health").status == 200)

            try fs.free()
            let recovered = try await httpRequest(daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "after"}"#)
            #expect(recovered.status == 201, "no restart needed: \(recovered.body)")
            let (exit, stderr) = await daemon.stop()
            #expect(exit == 0)
            // The API's refusals are logged once per episode (a scheduled job that meets the full
            // disk logs its own failure besides).
            #expect(
                stderr.components(separatedBy: "the store's disk is full: writes are refused").count - 1 == 1,
                "logged once per episode: \(stderr)")

            let store = try m.store()
            for id in acknowledged {
                #expect(try await store.memory(id: id) != nil, "acknowledged \(id) is in the store")
            }
            #expect(try await store.integrityCheck().isEmpty)
        }
    }

    @Test func importOnAFullDiskExits74AndImportsNothingThenSucceeds() async throws {
        try await TinyFilesystem.with(size: "64m") { fs in
            var m = try Memkeepd()
            m.environment["MEMKEEP_STORE_PATH"] = fs.path("store.db")
            #expect(try await m.run("migrate").status == 0)
            let lines = (0..<400).map {
                #"{"type":"memory","id":"m-\#($0)","agent_id":"a1","content":"\#(Self.large)","created_at":1700000000}"#
            }
            let file = try m.write("big.jsonl", lines.joined(separator: "\n") + "\n")
            try fs.fill(leaving: 256 * 1024)
            let refused = try await m.run("import", file)
            #expect(refused.status == 74, "\(refused.stderr)")
            #expect(refused.stderr.contains("disk is full") && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
            #expect(try await m.run("export").stdout.isEmpty)
            try fs.free()
            let imported = try await m.run("import", file)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(try await m.run("export").stdout.split(separator: "\n").count == 400)
        }
    }

    @Test func aPurgeExportThatFillsItsDiskLosesNoRecord() async throws {
        try await TinyFilesystem.with(size: "64k") { fs in
            var m = try Memkeepd(["MEMKEEP_PURGE_BATCH_SIZE": "50", "MEMKEEP_JOBS_BATCH_PAUSE": "0"])
            m.environment["MEMKEEP_PURGE_EXPORT_DIR"] = fs.path("purged")
            #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1, expiredExtra: 2_000))).status == 0)
            let failed = try await m.run("run", "purge")
            #expect(failed.status == 1, "\(failed.stdout)")
            #expect(failed.stdout.contains("No space left on device") || failed.stderr.contains("No space left on device"))
            let store = try m.store()
            let left = try await store.counts(now: SystemClock().now()).expiredMemories
            #expect(left > 0 && left < 2_000, "\(left)")
            let exported = try Self.exportedIDs(fs)
            #expect(exported.count == 2_000 - left, "every deleted memory, and only those, is exported")
            #expect(Set(exported).count == exported.count)

            try await fs.remount("size=4m")
            let rerun = try await m.run("run", "purge")
            #expect(rerun.status == 0, "\(rerun.stdout)")
            let all = try Self.exportedIDs(fs)
            #expect(Set(all) == Set((0..<2_000).map { "x-\($0)" }))
            #expect(try await store.counts(now: SystemClock().now()).expiredMemories == 0)
        }
    }

    /// Every line of the export parses; returns the ids in order.
    static func exportedIDs(_ fs: TinyFilesystem) throws -> [String] {
        let directory = fs.path("purged")
        var ids: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"), "whole lines only")
            for line in text.split(separator: "\n") {
                ids.append(try #require(try JSONValue.parse(String(line))["id"]?.text))
            }
        }
        return ids
    }

    @Test func statusAndExportReadAStoreOnAReadOnlyFilesystem() async throws {
        try await TinyFilesystem.with(size: "8m") { fs in
            var m = try Memkeepd()
            m.environment["MEMKEEP_STORE_PATH"] = fs.path("store.db")
            #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 2, sessions: 2, facts: 2))).status == 0)
            let before = try await m.run("export").stdout
            try await fs.remount("ro")
            let status = try await m.run("status", "--json")
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains(#""ended_sessions":4"#), "\(status.stdout)")
            let export = try await m.run("export")
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stdout == before)
            let run = try await m.run("run", "purge")
            #expect(run.status != 0)
            #expect(run.stderr.contains("readonly") || run.stderr.contains("read-only") || run.stdout.contains("readonly"), "\(run.stderr)")
        }
    }
}
