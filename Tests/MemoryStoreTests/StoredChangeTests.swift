import Foundation
import MemoryStore
import Testing
import TestSupport

/// A change statement stored supersedes the facts it makes stale at once, on every backend:
/// recall hides them (and counts them) without waiting for a consolidation.
@Suite struct StoredChangeTests {
    static func recall(_ store: MemoryStore, _ text: String, includeSuperseded: Bool = false) async throws
        -> (ids: [String], hidden: Int)
    {
        var query = RecallQuery(agentID: "team", query: text)
        query.topK = 5
        query.includeSuperseded = includeSuperseded
        let answer = try await store.recall(query, weights: RecallWeights())
        return (answer.hits.map(\.memory.id), answer.supersededHidden)
    }

    @Test(arguments: TestBackend.allCases)
    func storingAChangeHidesTheFactItRetiresAtOnce(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let store = test.store
            let python = try await store.storeMemory(NewMemory(agentID: "team", content: "Backend services are written in Python."))
            let course = try await store.storeMemory(NewMemory(agentID: "team", content: "Took a Python course last spring."))
            let other = try await store.storeMemory(NewMemory(agentID: "elsewhere", content: "Backend services are written in Python."))
            test.clock.advance(seconds: 60)
            let change = try await store.storeMemory(
                NewMemory(agentID: "team", content: "The team rewrote the services from Python to Go."))
            #expect(try await store.memory(id: python.id)?.supersededBy == change.id)
            #expect(try await store.memory(id: course.id)?.supersededBy == nil, "not about the services")
            #expect(try await store.memory(id: other.id)?.supersededBy == nil, "another agent's fact")

            let answer = try await Self.recall(store, "which language are the backend services written in")
            #expect(!answer.ids.contains(python.id))
            #expect(answer.ids.contains(change.id))
            #expect(answer.hidden == 1)
            #expect(try await Self.recall(store, "backend services python", includeSuperseded: true).ids.contains(python.id))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aChangeRetiresNothingOlderThanItsOwnTime(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let store = test.store
            let fact = try await store.storeMemory(NewMemory(agentID: "team", content: "The office in Leeds opens at eight."))
            test.clock.advance(seconds: 60)
            // Filed late: the move happened a day before the fact above was said.
            _ = try await store.storeMemory(NewMemory(
                agentID: "team", content: "Our office relocated from Leeds to York.", createdAt: fact.createdAt - 86_400_000))
            #expect(try await store.memory(id: fact.id)?.supersededBy == nil)
            // Said after it, the same change retires it.
            let now = try await store.storeMemory(NewMemory(agentID: "team", content: "Our office relocated from Leeds to York."))
            #expect(try await store.memory(id: fact.id)?.supersededBy == now.id)
        }
    }
}
