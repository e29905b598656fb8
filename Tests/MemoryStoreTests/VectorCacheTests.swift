import Foundation
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
