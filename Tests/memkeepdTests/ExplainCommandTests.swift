import Foundation
import MemoryStore
import TestSupport
import Testing

/// `memkeepd explain` and `memkeepd restore` with consolidation ids, as subprocesses.
@Suite struct ExplainCommandTests {
    static let history = [
        #"{"type":"session","id":"s1","agent_id":"acme","started_at":1700000000,"ended_at":1700000100}"#,
        #"{"type":"memory","id":"old","agent_id":"acme","session_id":"s1","content":"Primary database is PostgreSQL 14 on Cloud SQL.","importance":0.9,"created_at":1700000001}"#,
        #"{"type":"memory","id":"new","agent_id":"acme","session_id":"s1","content":"Migrated the primary database from PostgreSQL 14 to AlloyDB.","importance":0.9,"created_at":1700000002}"#,
        #"{"type":"memory","id":"thanks","agent_id":"acme","session_id":"s1","content":"Customer said thanks.","importance":0.2,"created_at":1700000003}"#,
        #"{"type":"memory","id":"inv1","agent_id":"acme","session_id":"s1","content":"Discussed invoice 7001 line items.","importance":0.55,"created_at":1700000004}"#,
        #"{"type":"memory","id":"inv2","agent_id":"acme","session_id":"s1","content":"Discussed invoice 7002 line items.","importance":0.55,"created_at":1700000005}"#,
    ].joined(separator: "\n") + "\n"

    @Test func explainShowsEveryFateAndRestoreTakesTheConsolidationID() async throws {
        let m = try Memkeepd()
        #expect(try await m.run("import", try m.write("h.jsonl", Self.history)).status == 0)
        let before = try await m.run("export").stdout
        let run = try await m.run("run", "consolidate", "--agent", "acme", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONValue.parse(run.stdout).objectValue?["jobs"]?.arrayValue?.first?.objectValue)
        let consolidation = try #require(report["consolidations"]?.arrayValue?.first?.text)
        #expect(run.stdout.contains(#""below_floor":1"#) && run.stdout.contains(#""superseded_by":1"#))

        let text = try await m.run("explain", consolidation)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("superseded_by old  importance 0.90  → new"))
        #expect(text.stdout.contains("below_floor   thanks"))
        #expect(text.stdout.contains(#"merged        inv1  importance 0.55  into "Discussed invoice 7002 line items (2 times, invoices 7001–7002, Nov).""#))
        #expect(text.stdout.contains("in no summary:"))

        let json = try await m.run("explain", "old", "--json")
        let object = try #require(try JSONValue.parse(json.stdout).objectValue)
        #expect(object["consolidation_id"]?.text == consolidation)
        #expect(object["sources"]?.arrayValue?.count == 1)
        #expect(object["sources"]?.arrayValue?.first?["fate_ref"]?.text == "new")

        let unknown = try await m.run("explain", "nothing-here")
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no consolidation, summary or consolidated memory has the id nothing-here"))

        let restore = try await m.run("restore", consolidation)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("restored 5 memories of 1 sessions"))
        // Decay of the restored memories starts over at the restore; everything else is as before.
        let withoutDecayReference = { (export: String) in
            export.split(separator: "\n").map { $0.replacing(/"decay_ref_at":"[^"]*"/, with: "") }
        }
        #expect(withoutDecayReference(try await m.run("export").stdout) == withoutDecayReference(before))
    }
}

/// `memkeepd reconsolidate` as a subprocess: its scope, its dry run, its report.
@Suite struct ReconsolidateCommandTests {
    @Test func aDryRunListsTheFatesAndARealRunRedoesTheConsolidation() async throws {
        let m = try Memkeepd()
        #expect(try await m.run("import", try m.write("h.jsonl", ExplainCommandTests.history)).status == 0)
        let run = try await m.run("run", "consolidate", "--agent", "acme", "--json")
        let report = try #require(try JSONValue.parse(run.stdout).objectValue?["jobs"]?.arrayValue?.first?.objectValue)
        let consolidation = try #require(report["consolidations"]?.arrayValue?.first?.text)

        let unscoped = try await m.run("reconsolidate")
        #expect(unscoped.status == 64)
        #expect(unscoped.stderr.contains("name exactly one of --agent AGENT, --consolidation ID or --all"))
        let badAgent = try await m.run("reconsolidate", "--agent", "bad id")
        #expect(badAgent.status == 64 && badAgent.stderr.contains("--agent"))

        let before = try await m.run("export").stdout
        let dry = try await m.run("reconsolidate", "--all", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        let listed = try #require(try JSONValue.parse(dry.stdout).objectValue?["consolidations"]?.arrayValue)
        #expect(listed.map { $0["consolidation_id"]?.text } == [consolidation])
        #expect(listed.first?["fates"]?["below_floor"] == .number(1))
        #expect(listed.first?["undone"] == .bool(false))
        #expect(try await m.run("export").stdout == before, "a dry run changes nothing")

        let redo = try await m.run("reconsolidate", "--consolidation", consolidation)
        #expect(redo.status == 0, "\(redo.stderr)")
        #expect(redo.stdout.contains("\(consolidation) (acme): below_floor 1, kept 1, merged 2, superseded_by 1; undone"))
        #expect(redo.stdout.contains("consolidated again: ok, 1 sessions"))
        let unknown = try await m.run("reconsolidate", "--consolidation", "nothing-here")
        #expect(unknown.status == 65)
    }
}

/// `consolidation.summarizer: llm` end to end: the daemon's one-shot run against a loopback
/// chat server, the key from `$CREDENTIALS_DIRECTORY`.
@Suite struct LLMSummarizerCommandTests {
    static let history = [
        #"{"type":"session","id":"s1","agent_id":"acme","started_at":1700000000,"ended_at":1700000100}"#,
        #"{"type":"memory","id":"db","agent_id":"acme","session_id":"s1","content":"Primary database is AlloyDB.","importance":0.9,"created_at":1700000001}"#,
    ].joined(separator: "\n") + "\n"

    @Test(arguments: [
        (#"{"topics": [{"topic": 1, "sentences": [{"text": "The primary database is AlloyDB.", "cites": ["db"]}]}]}"#, "llm",
         "[2023-11-14] The primary database is AlloyDB."),
        (#"{"topics": [{"topic": 1, "sentences": [{"text": "The primary database is AlloyDB 16.", "cites": ["db"]}]}]}"#,
         "extractive", "- [2023-11-14] Primary database is AlloyDB."),
    ])
    func aOneShotRunWritesTheGatedTextAndSaysWhoWroteIt(answer: String, writer: String, content: String) async throws {
        let server = FakeChatServer([.content(answer)])
        try await server.run { url in
            var m = try Memkeepd()
            let credentials = m.directory.appendingPathComponent("credentials")
            try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
            _ = try m.write("credentials/llm-api-key", "sk-test\n")
            m.environment["CREDENTIALS_DIRECTORY"] = credentials.path
            m.environment["MEMKEEP_CONSOLIDATION_SUMMARIZER"] = "llm"
            m.environment["MEMKEEP_LLM_URL"] = url
            m.environment["MEMKEEP_LLM_MODEL"] = "test-model"
            #expect(try await m.run("import", try m.write("h.jsonl", Self.history)).status == 0)
            let run = try await m.run("run", "consolidate", "--agent", "acme", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(#""llm_calls":1"#))
            let summary = try #require(
                try await m.run("export").stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)).objectValue }
                    .first { $0["tags"]?.arrayValue?.first?.text == "historical-summary" })
            #expect(summary["content"]?.text == content)
            #expect(summary["metadata"]?["summarizer"]?.text == writer)
            #expect(summary["metadata"]?["prompt_version"]?.text == (writer == "llm" ? "summary-prompt-1" : nil))
            let status = try await m.run("status")
            #expect(status.stdout.contains("llm        120 tokens of 1000000 (0.0 %) today ("), "\(status.stdout)")
            #expect(status.stdout.contains("in 1 calls: 100 prompt, 20 completion; per run no limit"))
            #expect(status.stdout.contains("llm 1 calls 120 tokens"), "the run's own spend")
            let json = try JSONValue.parse(try await m.run("status", "--json").stdout)
            #expect(json["llm"]?["usage"] == .object(["calls": .number(1), "prompt_tokens": .number(100), "completion_tokens": .number(20)]))
            #expect(json["llm"]?["max_tokens_per_day"] == .number(1_000_000))
        }
        #expect(server.headers.first?[.authorization] == "Bearer sk-test")
    }

    @Test func aDryRunPrintsTheTextsItWouldWriteAndWhoWroteThem() async throws {
        let refused = #"{"topics": [{"topic": 1, "sentences": [{"text": "The primary database is AlloyDB 16.", "cites": ["db"]}]}]}"#
        let server = FakeChatServer([.content(refused)])
        try await server.run { url in
            var m = try Memkeepd()
            m.environment["MEMKEEP_CONSOLIDATION_SUMMARIZER"] = "llm"
            m.environment["MEMKEEP_LLM_URL"] = url
            m.environment["MEMKEEP_LLM_MODEL"] = "test-model"
            #expect(try await m.run("import", try m.write("h.jsonl", Self.history)).status == 0)
            let before = try await m.run("export").stdout
            let run = try await m.run("run", "consolidate", "--agent", "acme", "--dry-run")
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(
                "summary of acme, written by extractive (the LLM's text fell back: unsupported_claim: \"16\" is in no fact the sentence cites):\n- [2023-11-14] Primary database is AlloyDB."))
            #expect(try await m.run("export").stdout == before, "a dry run writes nothing")
        }
    }
}
