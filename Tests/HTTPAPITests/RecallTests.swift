import Embeddings
import Foundation
import HTTPAPI
import Maintenance
import MemoryService
import MemoryStore
import Synchronization
import Testing
import TestSupport

@Suite struct RecallTests {
    func ids(_ reply: Reply) -> [String] {
        guard case .array(let hits)? = reply.object["memories"] else { return [] }
        return hits.compactMap { $0["memory"]?["id"]?.text }
    }

    @Test(arguments: TestBackend.allCases)
    func aRelevantFreshMemoryOutranksAnIrrelevantOneAndAStaleUnimportantOne(backend: TestBackend) async throws {
        try await APIHarness.with(backend, embedder: TestModel.builtin()) { h in
            let stale = try await h.store.storeMemory(
                NewMemory(agentID: "a1", content: "customer database is PostgreSQL 14", importance: 0.2))
            h.clock.advance(seconds: 60 * 86_400)
            let fresh = try await h.store.storeMemory(
                NewMemory(agentID: "a1", content: "customer database is PostgreSQL 14 on RDS", importance: 0.8))
            let irrelevant = try await h.store.storeMemory(
                NewMemory(agentID: "a1", content: "prefers dark mode in the dashboard", importance: 0.9))
            let expiring = try await h.store.storeMemory(
                NewMemory(agentID: "a1", content: "PostgreSQL upgrade webinar this week", importance: 1, ttlSeconds: 60))
            let otherAgent = try await h.store.storeMemory(NewMemory(agentID: "a2", content: "PostgreSQL 14 everywhere", importance: 1))
            // Consolidating a session archives its fact below the floor; the kept one stays live
            // beside the summary.
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            let archived = try await h.store.storeMemory(
                NewMemory(agentID: "a1", sessionID: session.id, content: "asked about PostgreSQL 14 pricing once", importance: 0.3))
            _ = try await h.store.storeMemory(
                NewMemory(agentID: "a1", sessionID: session.id, content: "nightly backups of the warehouse run at 02:00", importance: 0.9))
            _ = try await h.store.endSession(id: session.id)
            let runner = JobRunner(store: h.store, configuration: MaintenanceConfiguration(), logger: APIHarness.logger)
            #expect(await runner.run(.consolidate, trigger: .once, now: h.clock.now(), dryRun: false, agent: "a1").changed == 1)
            h.clock.advance(seconds: 61)
            try await h.embedAll()

            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "which PostgreSQL database", "top_k": 10}"#)
                let order = ids(reply)
                #expect(reply.status == 200)
                let first = try #require(order.firstIndex(of: fresh.id))
                #expect(first < order.firstIndex(of: irrelevant.id)!, "\(reply.text)")
                #expect(first < order.firstIndex(of: stale.id)!, "\(reply.text)")
                for gone in [expiring.id, archived.id, otherAgent.id] { #expect(!order.contains(gone)) }
                let archivedToo = try await client.call(
                    .post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "PostgreSQL", "top_k": 10, "include_archived": true}"#)
                #expect(ids(archivedToo).contains(archived.id))
                // Filters.
                let important = try await client.call(.get, "/v1/memory/recall?agent_id=a1&query=PostgreSQL&top_k=10&min_importance=0.72")
                #expect(!ids(important).contains(stale.id) && ids(important).contains(fresh.id))
                // The consolidation's summary restates a fact that stays live: recall answers with
                // the fact, and the summary only when asked for.
                let semantic = try await client.call(
                    .post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "PostgreSQL backups", "memory_type": "semantic"}"#)
                #expect(ids(semantic).isEmpty, "\(semantic.text)")
                let summaries = try await client.call(
                    .post, "/v1/memory/recall",
                    #"{"agent_id": "a1", "query": "PostgreSQL backups", "memory_type": "semantic", "include_summaries": true}"#)
                #expect(ids(summaries).count == 1 && !ids(summaries).contains(fresh.id), "\(summaries.text)")
                let byTag = try await client.call(
                    .get, "/v1/memory/recall?agent_id=a1&query=backups&tags=historical-summary")
                #expect(ids(byTag) == ids(summaries))
            }
            // What recall returned counts as accessed.
            #expect(try await h.store.memory(id: fresh.id)!.accessCount >= 1)
            let outcome = try await h.store.memory(id: expiring.id)
            #expect(outcome == nil)
        }
    }

    /// History filed late keeps when it was said, on store, batch store and export; recall's
    /// recency counts from it.
    @Test(arguments: TestBackend.allCases)
    func aMemoryFiledLateKeepsWhenItWasSaid(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                let single = try await client.call(
                    .post, "/v1/memory/store",
                    #"{"agent_id": "a1", "content": "moved to Lisbon", "created_at": "2024-03-01T10:00:00Z"}"#)
                #expect(single.status == 201, "\(single.text)")
                #expect(single.object["memory"]?["created_at"] == .number(1_709_287_200))
                let batch = try await client.call(
                    .post, "/v1/memories/store/batch",
                    #"{"agent_id": "a1", "memories": [{"content": "moved to Porto", "created_at": 1717236000}, {"content": "moved to Faro"}]}"#)
                #expect(batch.status == 201 || batch.status == 200, "\(batch.text)")
                guard case .array(let stored)? = batch.object["stored"] else { Issue.record("no stored"); return }
                #expect(stored[0]["created_at"] == .number(1_717_236_000))
                #expect(stored[1]["created_at"] == .number(Double(h.clock.now() / 1000)))
                // The older of two equal matches ranks second: recency is of when it was said.
                let reply = try await client.call(.post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "moved", "top_k": 3}"#)
                #expect(ids(reply).last == single.object["memory"]?["id"]?.text, "\(reply.text)")
            }
            #expect(try await h.store.memories(agentID: "a1", limit: 10).contains { $0.createdAt == 1_709_287_200_000 })
            let exported = try await h.test.exportText(agentID: "a1")
            #expect(exported.contains("2024-03-01T10:00:00.000Z"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAgentsMatchIsFoundEvenWhenOtherAgentsHoldFarMoreMatches(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            for index in 0..<300 {
                _ = try await h.store.storeMemory(NewMemory(agentID: "noisy", content: "postgresql postgresql tuning note \(index)"))
            }
            let relevant = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "runs postgresql 14"))
            h.clock.advance(seconds: 1)
            for index in 0..<20 {
                _ = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "unrelated fact \(index)"))
            }
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "postgresql", "top_k": 1}"#)
                #expect(ids(reply) == [relevant.id], "\(reply.text)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func recallWithASessionMovesItsIdleDeadline(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 60))
            _ = try await h.store.storeMemory(NewMemory(agentID: "a1", sessionID: session.id, content: "likes tea"))
            h.clock.advance(seconds: 30)
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "tea", "session_id": "\#(session.id)"}"#)
                #expect(reply.status == 200)
            }
            let outcome = try await h.store.session(id: session.id)?.idleDeadlineAt
            #expect(outcome == h.clock.now() + 60_000)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theMultiTopicBatchAnswersEveryQueryInOneRoundTrip(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            _ = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "stack is FastAPI"))
            _ = try await h.store.storeMemory(NewMemory(agentID: "a2", content: "constraint: free tier only"))
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memories/recall/batch",
                    #"{"queries": [{"agent_id": "a1", "query": "stack", "top_k": 1}, {"agent_id": "a2", "query": "constraint", "top_k": 1}]}"#)
                guard case .array(let results)? = reply.object["results"] else { Issue.record("\(reply.text)"); return }
                #expect(results.count == 2)
                #expect(results[0]["memories"].map { "\($0)" }?.contains("FastAPI") == true)
                #expect(results[1]["agent_id"]?.text == "a2")
            }
        }
    }
}

/// The built-in model, counting the texts it is asked to embed.
final class CountingEmbedder: TextEmbedder {
    let model: BuiltinEmbedder
    private let texts = Mutex<[String]>([])
    init(_ model: BuiltinEmbedder) { self.model = model }
    var modelID: String { model.modelID }
    var dimensions: Int { model.dimensions }
    var embedsInline: Bool { false }
    var embedded: [String] { texts.withLock { $0 } }
    func embed(_ texts: [String]) async throws -> [[Float]] {
        self.texts.withLock { $0 += texts }
        return try await model.embed(texts)
    }
}

@Suite struct QueryVectorCacheTests {
    @Test(arguments: TestBackend.allCases)
    func aRepeatedQueryIsEmbeddedOnceAndABatchInOneCall(backend: TestBackend) async throws {
        let embedder = CountingEmbedder(try TestModel.builtin())
        try await APIHarness.with(backend, embedder: embedder) { h in
            _ = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "runs FastAPI backend with PostgreSQL 14"))
            try await h.embedAll()
            let stored = embedder.embedded.count
            try await h.run { client in
                for _ in 0..<3 {
                    let reply = try await client.call(.post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "which database do they use"}"#)
                    #expect(reply.text.contains("PostgreSQL"))
                }
                let batch = try await client.call(
                    .post, "/v1/memories/recall/batch",
                    #"{"queries": [{"agent_id": "a1", "query": "which database do they use"}, {"agent_id": "a1", "query": "what stack"}, {"agent_id": "a1", "query": "what stack"}]}"#)
                #expect(batch.status == 200)
            }
            #expect(Array(embedder.embedded.dropFirst(stored)) == ["which database do they use", "what stack"])
        }
    }
}
