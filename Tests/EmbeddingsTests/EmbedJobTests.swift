import Embeddings
import Foundation
import Logging
import Maintenance
import MemoryStore
import Testing
import TestSupport

/// The `embed` job over a real store, with the built-in model or a loopback OpenAI-compatible
/// server that misbehaves.
@Suite struct EmbedJobTests {
    static func runner(_ test: TestStore, embedder: any TextEmbedder) -> JobRunner {
        var configuration = MaintenanceConfiguration()
        configuration.jobs.batchPause = .zero
        configuration.jobs.contendedPause = .zero
        configuration.embed.batchSize = 2
        return JobRunner(
            store: test.store, configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            embedder: embedder)
    }

    static func model(_ embedder: any TextEmbedder) -> EmbeddingModel {
        EmbeddingModel(name: embedder.modelID, dimensions: embedder.dimensions)
    }

    @Test(arguments: [
        FakeEmbeddingsServer.Answer.status(429), .status(500), .stall, .malformed, .wrongDimensions,
    ])
    func aBadProviderAnswerNeverLosesOrBlocksAMemory(answer: FakeEmbeddingsServer.Answer) async throws {
        let test = try TestStore()
        let server = FakeEmbeddingsServer(model: try TestModel.builtin())
        server.script([], then: answer)
        try await server.run { url in
            var settings = OpenAIEmbedder.Settings(url: url, model: "remote-minilm", dimensions: 384)
            settings.retries = 1
            settings.timeout = .milliseconds(300)
            let embedder = OpenAIEmbedder(settings: settings, waits: RecordedSleeps().waits)
            #expect(!embedder.embedsInline, "a remote provider is never called by a store request")
            let stored = try await test.store.storeMemories((0..<5).map { NewMemory(agentID: "a1", content: "fact \($0)") })
            #expect(server.requests.isEmpty)
            let runner = Self.runner(test, embedder: embedder)
            let failed = await runner.run(.embed, trigger: .once, now: test.clock.now(), dryRun: false)
            #expect(failed.status == .failed)
            #expect(failed.error?.contains("embeddings server") == true, "\(failed.error ?? "")")
            for memory in stored.memories { #expect(try await test.store.memory(id: memory.id)?.content == memory.content) }
            #expect(try await test.store.embeddingBacklog(model: Self.model(embedder)).queued == 5)
            // Stores go on while the provider fails.
            _ = try await test.store.storeMemory(NewMemory(agentID: "a1", content: "stored while the provider failed"))
            server.releaseStalls()
            server.script([], then: .vectors)
            // The short timeout above is for the stall; the recovery must not depend on how
            // fast a busy machine answers.
            settings.timeout = .seconds(120)
            let recovering = Self.runner(test, embedder: OpenAIEmbedder(settings: settings, waits: RecordedSleeps().waits))
            let recovered = await recovering.run(.embed, trigger: .once, now: test.clock.now(), dryRun: false)
            #expect(recovered.status == .ok, "\(recovered.error ?? "")")
            #expect(recovered.embedded == 6)
            let outcome = try await test.store.embeddingBacklog(model: Self.model(embedder))
            #expect(outcome == EmbeddingBacklog(queued: 0, stale: 0, current: 6))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aModelChangeReEmbedsInTheBackgroundWhileRecallUsesWhatItHas(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let builtin = try TestModel.builtin()
            let old = EmbeddingModel(name: "old-model", dimensions: 3)
            let contents = ["runs FastAPI backend with PostgreSQL 14", "likes green tea", "plays the cello"]
            _ = try await test.store.storeMemories(
                contents.map { NewMemory(agentID: "a1", content: $0) }, vectors: (old, contents.map { _ in [1, 0, 0] }))
            let model = Self.model(builtin)
            #expect(try await test.store.embeddingBacklog(model: model) == EmbeddingBacklog(queued: 0, stale: 3, current: 0))
            // Before the re-embedding, recall by the new model ranks by full text alone: no word
            // matches, so the agent's memories follow with score 0.
            var query = RecallQuery(agentID: "a1", query: "which database do they use")
            query.embedding = QueryEmbedding(model: model, vector: try await builtin.embed([query.query])[0])
            #expect(try await test.store.recall(query, weights: RecallWeights()).hits.map(\.score) == [0, 0, 0])
            let report = await Self.runner(test, embedder: builtin).run(.embed, trigger: .once, now: test.clock.now(), dryRun: false)
            #expect(report.embedded == 3)
            #expect(try await test.store.embeddingBacklog(model: model) == EmbeddingBacklog(queued: 0, stale: 0, current: 3))
            let hits = try await test.store.recall(query, weights: RecallWeights()).hits
            #expect(hits.first?.memory.content == contents[0])
            #expect(hits.allSatisfy { (0...1).contains($0.score) })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aContentUpdateReEmbedsAndADryRunChangesNothing(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let builtin = try TestModel.builtin()
            let model = Self.model(builtin)
            let memory = try await test.store.storeMemory(NewMemory(agentID: "a1", content: "likes green tea"))
            let runner = Self.runner(test, embedder: builtin)
            let dry = await runner.run(.embed, trigger: .once, now: test.clock.now(), dryRun: true)
            #expect(dry.embedded == 1)
            #expect(try await test.store.vector(memoryID: memory.id, model: model) == nil)
            #expect(await runner.run(.embed, trigger: .once, now: test.clock.now(), dryRun: false).embedded == 1)
            #expect(try await test.store.vector(memoryID: memory.id, model: model) == (try await builtin.embed(["likes green tea"]))[0])
            _ = try await test.store.updateMemory(id: memory.id, MemoryUpdate(content: "drinks only black coffee"))
            #expect(try await test.store.vector(memoryID: memory.id, model: model) == nil, "the old content's vector is gone")
            #expect(await runner.run(.embed, trigger: .once, now: test.clock.now(), dryRun: false).embedded == 1)
            #expect(try await test.store.vector(memoryID: memory.id, model: model) == (try await builtin.embed(["drinks only black coffee"]))[0])
            #expect(await runner.run(.embed, trigger: .once, now: test.clock.now(), dryRun: false).examined == 0, "idempotent")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func exportCarriesNoVectorsAndImportedMemoriesAreEmbeddedAgain(backend: TestBackend) async throws {
        try await TestStore.with(backend) { source in
            let builtin = try TestModel.builtin()
            let contents = ["runs FastAPI backend with PostgreSQL 14", "likes green tea"]
            _ = try await source.store.storeMemories(
                contents.map { NewMemory(agentID: "a1", content: $0) }, vectors: (Self.model(builtin), try await builtin.embed(contents)))
            let exported = try await source.exportText()
            #expect(!exported.contains("vector") && !exported.contains("embedding"))
            let target = try TestStore()
            _ = try await target.store.importLines(exported.split(separator: "\n"))
            #expect(try await target.store.embeddingBacklog(model: Self.model(builtin)).queued == 2)
            #expect(await Self.runner(target, embedder: builtin).run(.embed, trigger: .once, now: target.clock.now(), dryRun: false).embedded == 2)
        }
    }
}
