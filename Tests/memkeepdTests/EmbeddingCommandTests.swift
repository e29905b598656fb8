import Foundation
import MemoryStore
import Testing
import TestSupport

/// The embedding providers as an operator meets them: start-up checks, `memkeepd run embed`,
/// and semantic recall from a running daemon.
@Suite struct EmbeddingCommandTests {
    static let withModel = ["MEMKEEP_EMBEDDINGS_PROVIDER": "builtin", "MEMKEEP_EMBEDDINGS_MODEL_DIR": TestModel.directory]

    /// A run that stops at its time budget says so and how much is left; `--until-done` runs
    /// the job again until nothing is.
    @Test func aRunStoppedAtItsBudgetSaysWhatIsLeftAndUntilDoneFinishes() async throws {
        var m = try Memkeepd(Self.withModel)
        let lines = (0..<6).map { #"{"type":"memory","id":"m\#($0)","agent_id":"budget","content":"fact number \#($0)"}"# }
        #expect(try await m.run("import", try m.write("facts.jsonl", lines.joined(separator: "\n") + "\n")).status == 0)
        // One memory a batch and a budget shorter than any batch: each run embeds one.
        m.environment["MEMKEEP_EMBEDDINGS_BATCH_SIZE"] = "1"
        m.environment["MEMKEEP_JOBS_EMBED_BUDGET"] = "1ms"
        let text = try await m.run("run", "embed")
        #expect(text.status == 0)
        #expect(text.stdout.contains("embed stopped at its time budget with about 5 rows left"), "\(text.stdout)")
        let stopped = try await m.run("run", "embed", "--json")
        #expect(stopped.stdout.contains(#""complete":false"#) && stopped.stdout.contains(#""left":4"#), "\(stopped.stdout)")
        let finished = try await m.run("run", "embed", "--until-done", "--json")
        #expect(finished.status == 0)
        #expect(finished.stdout.contains(#""complete":true"#) && finished.stdout.contains(#""embedded":4"#), "\(finished.stdout)")
        #expect(!finished.stdout.contains(#""left""#))
    }

    @Test func builtinWithTheModelMissingExits78NamingTheFetchScript() async throws {
        let m = try Memkeepd(["MEMKEEP_EMBEDDINGS_PROVIDER": "builtin", "MEMKEEP_EMBEDDINGS_MODEL_DIR": "/nonexistent/minilm"])
        for command in ["serve", "run"] {
            let result = try await m.run(command)
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("/nonexistent/minilm") && result.stderr.contains("scripts/fetch-model"), "\(result.stderr)")
        }
    }

    @Test(arguments: [
        ("embeddings:\n  provider: openai\n  model: m\n  dimensions: 384\n", "embeddings.url: is required with embeddings.provider openai"),
        ("embeddings:\n  provider: openai\n  url: http://127.0.0.1:9/v1\n  model: m\n", "embeddings.dimensions: is required"),
        ("embeddings:\n  provider: openai\n  url: ftp://x\n", "embeddings.url: must be an http:// or https:// URL"),
        ("embeddings:\n  provider: magic\n", "embeddings.provider: must be one of auto, builtin, openai, none"),
        ("embeddings:\n  cache_mb: 0\n", "embeddings.cache_mb: must be a whole number from 1"),
        (
            "embeddings:\n  provider: openai\n  url: http://127.0.0.1:9/v1\n  model: m\n  dimensions: 384\n  api_key_file: /nonexistent/key\n",
            "embeddings.api_key_file: /nonexistent/key does not exist"
        ),
    ])
    func badEmbeddingsSettingsExit78NamingTheKey(yaml: String, message: String) async throws {
        let m = try Memkeepd()
        let path = try m.write("embeddings.yaml", yaml)
        let result = try await m.run("serve", "--config", path)
        #expect(result.status == 78)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func autoWithoutTheModelWarnsOnceAndRecallsByFullText() async throws {
        let m = try Memkeepd(["MEMKEEP_EMBEDDINGS_MODEL_DIR": "/nonexistent/minilm"])
        let daemon = try await m.serve()
        let stored = try await httpRequest(
            daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "runs PostgreSQL 14"}"#)
        #expect(stored.status == 201)
        let recalled = try await httpRequest(daemon.port, "POST", "/v1/memory/recall", #"{"agent_id": "a1", "query": "postgresql"}"#)
        #expect(recalled.body.contains("runs PostgreSQL 14"))
        let (status, stderr) = await daemon.stop()
        #expect(status == 0)
        #expect(stderr.components(separatedBy: "no embedding model in /nonexistent/minilm").count == 2, "\(stderr)")
    }

    @Test func runEmbedEmbedsByHandWhatOthersStored() async throws {
        let m = try Memkeepd(Self.withModel)
        let lines = (0..<5).map { #"{"type": "memory", "id": "m\#($0)", "agent_id": "a1", "content": "imported fact \#($0)"}"# }
        let file = try m.write("import.jsonl", lines.joined(separator: "\n") + "\n")
        #expect(try await m.run("import", file).status == 0)
        let dry = try await m.run("run", "embed", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains(#""embedded":5"#), "\(dry.stdout)")
        let run = try await m.run("run", "embed")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("embedded 5 memories"), "\(run.stdout)")
        #expect(try await m.run("run", "embed").stdout.contains("embedded 0 memories"))
    }

    /// The issue's acceptance check: a stored fact among noise is recalled first by a question
    /// that shares no word with it.
    @Test func theDaemonRecallsTheDatabaseFactFirstForAQuestionSharingNoWord() async throws {
        let m = try Memkeepd(Self.withModel)
        let daemon = try await m.serve()
        let noise = [
            "asked to rephrase the previous answer", "said good morning", "thanked the assistant", "prefers dark mode",
            "closed the conversation politely", "asked for the documentation link", "lives in Lisbon", "plays the cello",
        ]
        for line in noise.prefix(4) {
            _ = try await httpRequest(daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "\#(line)"}"#)
        }
        let fact = try await httpRequest(
            daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "runs FastAPI backend with PostgreSQL 14"}"#)
        #expect(fact.status == 201)
        for line in noise.dropFirst(4) {
            _ = try await httpRequest(daemon.port, "POST", "/v1/memory/store", #"{"agent_id": "a1", "content": "\#(line)"}"#)
        }
        // The embed job, woken by the stores, gives them their vectors moments later.
        let store = try m.store()
        let model = EmbeddingModel(name: "all-MiniLM-L6-v2", dimensions: 384)
        #expect(try await m.waitUntil { try await store.embeddingBacklog(model: model).total == 0 })
        let recalled = try await httpRequest(
            daemon.port, "POST", "/v1/memory/recall", #"{"agent_id": "a1", "query": "which database do they use"}"#)
        let memories = recalled.json?["memories"] as? [[String: Any]]
        let first = memories?.first
        #expect((first?["memory"] as? [String: Any])?["content"] as? String == "runs FastAPI backend with PostgreSQL 14", "\(recalled.body)")
        let score = first?["score"] as? Double ?? -1
        #expect(score > 0 && score <= 1)
        #expect(await daemon.stop().status == 0)
    }
}

@Suite struct FetchModelScriptTests {
    /// The README's commands run it every time: with the files there it must not download.
    @Test func fetchModelDoesNothingWhenTheModelIsAlreadyThere() async throws {
        let script = TestModel.repository.appendingPathComponent("scripts/fetch-model").path
        let run = try await Process.tool(script, [TestModel.directory])
        #expect(run.status == 0)
        #expect(run.output.contains("already holds the model"), "\(run.output)")
    }
}
