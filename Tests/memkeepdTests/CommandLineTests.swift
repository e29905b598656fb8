import Foundation
import MemoryStore
import Testing

@Suite struct ConfigurationErrorTests {
    @Test func badValueExitsSeventyEightNamingKeyAndLine() async throws {
        let m = try Memkeepd()
        let path = try m.write("bad.yaml", "store:\n  path: ./x.db\nconsolidation:\n  max_sessions: many\n")
        for command in ["check-config", "run", "status"] {
            let result = try await m.run(command, "--config", path)
            #expect(result.status == 78)
            #expect(result.stderr.contains("bad.yaml:4: consolidation.max_sessions: must be a whole number from 1"))
        }
    }

    @Test func unknownKeyAndBadDurationAreRejected() async throws {
        let m = try Memkeepd()
        let typo = try m.write("typo.yaml", "sessions:\n  idle_timout: 30m\n")
        #expect(try await m.run("check-config", "--config", typo).stderr.contains("typo.yaml:2: sessions.idle_timout: is not a known key"))
        let duration = try m.write("duration.yaml", "decay:\n  archived: {strategy: exponential, half_life: soon}\n")
        let result = try await m.run("check-config", "--config", duration)
        #expect(result.status == 78)
        #expect(result.stderr.contains("duration.yaml:2: decay.archived: must be a duration"))
    }

    /// Each of these passed `check-config` and then crashed `serve` (overflow) or opened the API
    /// to every tenant; now `check-config` and `serve` both exit 78 naming the key.
    @Test(arguments: [
        ("sessions:\n  idle_timeout: 106751991166d\n", "sessions.idle_timeout: must be at most 100 years"),
        ("orphans:\n  max_sleep: 106751991166d\n", "orphans.max_sleep: must be at most 100 years"),
        (
            "auth:\n  keys:\n    - {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, scope: read}\n",
            "auth.keys[0]: agents is required"
        ),
    ])
    func configurationThatUsedToCrashServeExits78(yaml: String, message: String) async throws {
        let m = try Memkeepd()
        let path = try m.write("edge.yaml", yaml)
        for command in ["check-config", "serve"] {
            let result = try await m.run(command, "--config", path)
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
        }
    }

    @Test(arguments: [
        (["MEMKEEP_JOBS_DECAY_BUDGET": "fast"], "MEMKEEP_JOBS_DECAY_BUDGET"),
        // The LLM summarizer needs a server and a model.
        (["MEMKEEP_CONSOLIDATION_SUMMARIZER": "llm"], "llm.url: is required with consolidation.summarizer llm"),
    ])
    func aBadEnvironmentIsRefusedByName(environment: [String: String], message: String) async throws {
        var m = try Memkeepd()
        m.environment.merge(environment) { $1 }
        let result = try await m.run("check-config")
        #expect(result.status == 78)
        #expect(result.stderr.contains(message))
    }

    @Test func shippedConfigurationIsValid() async throws {
        let m = try Memkeepd()
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/memkeep.yaml").path
        let result = try await m.run("check-config", "--config", shipped)
        #expect(result.status == 0, "\(result.stderr)")
    }
}

@Suite struct ImportExportCommandTests {
    @Test func badImportLineExitsSixtyFiveAndWritesNothing() async throws {
        let m = try Memkeepd()
        #expect(try await m.run("import", try m.write("good.jsonl", seedLines(agents: 1, sessions: 1, facts: 1))).status == 0)
        let before = try await m.run("export").stdout
        let bad = seedLines(agents: 2, sessions: 1, facts: 1).replacingOccurrences(of: "agent-0", with: "agent-9")
            + #"{"type":"memory","id":"q","agent_id":"a","content":"x","tags":"nope"}"# + "\n"
        let result = try await m.run("import", try m.write("bad.jsonl", bad))
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 5: tags must be an array of strings"))
        #expect(try await m.run("export").stdout == before)
    }

    @Test func dryRunChangesNothingAndSecondRunChangesNothing() async throws {
        let m = try Memkeepd()
        _ = try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 3, sessions: 4, facts: 2, expiredExtra: 5)))
        let figures = { (text: String) throws -> [JSONValue] in
            guard case .array(let jobs)? = try JSONValue.parse(text).objectValue?["jobs"] else { return [] }
            return jobs.map { job in
                var object = job.objectValue ?? [:]
                for volatile in ["duration_ms", "run_id", "summaries", "consolidations", "previews", "batches"] { object[volatile] = nil }
                return .object(object)
            }
        }
        var output = ""
        for job in ["orphans", "consolidate", "decay", "purge"] {
            let before = try await m.run("export").stdout
            let dry = try await m.run("run", job, "--dry-run", "--json", "--now", "2026-06-01T00:00:00Z")
            #expect(dry.status == 0)
            #expect(try await m.run("export").stdout == before, "dry \(job) changed nothing")
            let real = try await m.run("run", job, "--json", "--now", "2026-06-01T00:00:00Z")
            #expect(try figures(dry.stdout) == figures(real.stdout), "\(job): dry run and real run report alike")
            output += real.stdout
        }
        #expect(output.contains(#""sessions_consolidated":12"#))
        #expect(output.contains(#""deleted_memories":5"#))
        let after = try await m.run("export").stdout
        let again = try await m.run("run", "all", "--json", "--now", "2026-06-01T00:00:00Z")
        #expect(try figures(again.stdout).allSatisfy { $0.objectValue?["changed"] == .number(0) })
        #expect(try await m.run("export").stdout == after)
    }

    @Test func badNowIsRejectedWithoutTouchingTheStore() async throws {
        let m = try Memkeepd()
        let result = try await m.run("run", "--now", "tomorrow")
        #expect(result.status != 0)
        #expect(result.stderr.contains("--now must be an RFC 3339 time"))
        #expect(!FileManager.default.fileExists(atPath: m.storePath))
    }
}
