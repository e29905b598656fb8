import Foundation
import Synchronization
@testable import MemoryStore
import Testing
import TestSupport

/// The in-memory copy of agents' vectors against the store it copies.
@Suite struct VectorCacheTests {
    static let model = EmbeddingModel(name: "test-model", dimensions: 3)

    static func snapshot(_ store: MemoryStore, agent: String, model: EmbeddingModel = model) async throws -> VectorCache.Snapshot {
        try await store.read { db in try store.vectors.snapshot(db, agent: agent, model: model) }
    }

    static func store(_ store: MemoryStore, agent: String, _ vectors: [[Float]], model: EmbeddingModel = model) async throws -> [String] {
        let stored = try await store.storeMemories(
            vectors.indices.map { NewMemory(agentID: agent, content: "\(agent) fact \($0) \(UUID())") }, vectors: (model, vectors))
        return stored.memories.map(\.id)
    }

    @Test func anAgentsCopyFollowsInsertsDeletesAndContentChangesOfTheStore() async throws {
        let test = try TestStore()
        let first = try await Self.store(test.store, agent: "a1", [[1, 0, 0], [0, 1, 0]])
        _ = try await Self.store(test.store, agent: "a2", [[0, 0, 1]])
        _ = try await Self.store(test.store, agent: "a1", [[1, 1, 0]], model: EmbeddingModel(name: "other", dimensions: 3))
        var snapshot = try await Self.snapshot(test.store, agent: "a1")
        #expect(Set(snapshot.ids) == Set(first))
        #expect(try await Self.snapshot(test.store, agent: "a1") === snapshot, "unchanged: the same copy")
        let added = try await Self.store(test.store, agent: "a1", [[0, 0, 1]])
        snapshot = try await Self.snapshot(test.store, agent: "a1")
        #expect(Set(snapshot.ids) == Set(first + added))
        #expect(snapshot.similarities(to: [0, 0, 1]) == snapshot.ids.map { $0 == added[0] ? 1 : 0 })
        _ = try await test.store.forget(ids: [first[0]], agentID: "a1")
        snapshot = try await Self.snapshot(test.store, agent: "a1")
        #expect(Set(snapshot.ids) == Set([first[1]] + added))
        _ = try await test.store.updateMemory(id: first[1], MemoryUpdate(content: "changed"))
        #expect(try await Self.snapshot(test.store, agent: "a1").ids == added, "a changed memory's vector is gone until re-embedded")
    }

    /// The embed job moves each memory from the queue to `memory_vectors` in one transaction;
    /// a recall reads both, and must read them from one snapshot or miss the memories that
    /// moved between its two reads.
    @Test(arguments: TestBackend.allCases)
    func aRecallWhileMemoriesAreEmbeddedFindsEachByItsVectorOrInTheQueue(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            for round in 0..<5 {
                let agent = "embedding-\(round)"
                let stored = try await test.store.storeMemories(
                    (0..<MemoryStore.maxTopK).map { NewMemory(agentID: agent, content: "fact \($0) of \(agent)") }).memories
                var query = RecallQuery(agentID: agent, query: "")
                query.topK = MemoryStore.maxTopK
                query.embedding = QueryEmbedding(model: Self.model, vector: [1, 0, 0])
                let embedded = Counter()
                try await withThrowingTaskGroup { group in
                    group.addTask {
                        for memory in stored {
                            let task = EmbeddingTask(memoryID: memory.id, agentID: agent, content: memory.content)
                            _ = try await test.store.storeVectors([(task, [1, 0, 0])], model: Self.model)
                            embedded.value.add(1, ordering: .relaxed)
                        }
                    }
                    repeat {
                        let found = try await test.store.recall(query, weights: RecallWeights()).hits.map(\.memory.id)
                        let missing = Set(stored.map(\.id)).subtracting(found)
                        #expect(missing.isEmpty, "round \(round): \(missing.count) memories missing")
                    } while embedded.value.load(ordering: .relaxed) < stored.count
                    try await group.waitForAll()
                }
            }
        }
    }

    /// Two PostgreSQL transactions embedding one agent's memories can commit in the other
    /// order than they took their `seq`s. Played here by hand: a vector with a lower `seq` than
    /// the copy's last row commits after the copy was read, and a recall must still find it.
    @Test func aVectorCommittedAfterALaterSeqIsStillFound() async throws {
        try await TestStore.with(.postgres) { test in
            let query = {
                var query = RecallQuery(agentID: "a1", query: "")
                query.embedding = QueryEmbedding(model: Self.model, vector: [1, 0, 0])
                return query
            }()
            let late = try await test.store.storeMemory(NewMemory(agentID: "a1", content: "embedded late"))
            guard case .postgres(let engine) = test.store.engine else { throw StoreError.backend("not PostgreSQL") }
            let location = engine.location
            try await TestPostgres.admin(
                "SELECT setval(pg_get_serial_sequence('memory_vectors', 'seq'), 100)", database: location.database)
            let early = try await Self.store(test.store, agent: "a1", [[1, 0, 0]])
            let before = try await test.store.recall(query, weights: RecallWeights()).hits
            #expect(Set(before.map(\.memory.id)) == Set([late.id] + early), "the late one still in the queue")
            try await TestPostgres.admin(
                "BEGIN",
                """
                INSERT INTO memory_vectors (seq, memory_id, agent_id, model, dimensions, vector, embedded_at)
                OVERRIDING SYSTEM VALUE
                VALUES (50, '\(late.id)', 'a1', '\(Self.model.name)', 3, '\\x0000803f0000000000000000', 0)
                """,
                "DELETE FROM embed_queue WHERE memory_id = '\(late.id)'", "COMMIT", database: location.database)
            let after = try await test.store.recall(query, weights: RecallWeights()).hits
            #expect(Set(after.map(\.memory.id)) == Set([late.id] + early))
            #expect(after.allSatisfy { $0.score > 0.99 }, "both found by their vectors")
        }
    }

    @Test func theCopyStaysWithinItsBoundDroppingTheLeastRecentlyUsedAgent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vectors-\(UUID().uuidString)")
        let store = try MemoryStore(
            path: directory.appendingPathComponent("store.db").path, configuration: StoreConfiguration(vectorCacheBytes: 1000))
        let vectors = [[Float]](repeating: [1, 0, 0], count: 4)
        for agent in ["a1", "a2", "a3"] { _ = try await Self.store(store, agent: agent, vectors) }
        let first = try await Self.snapshot(store, agent: "a1")
        for agent in ["a2", "a3"] { _ = try await Self.snapshot(store, agent: agent) }
        #expect(store.vectors.residentBytes <= 1000)
        #expect(try await Self.snapshot(store, agent: "a1") !== first, "a1 was dropped and is read again")
        #expect(try await Self.snapshot(store, agent: "a1").ids == first.ids)
    }
}

/// A count shared by concurrent tasks.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
