import Foundation
import Maintenance
import MemoryStore
import TestSupport
import Testing

/// `reconsolidate` on a consolidation as the earlier release wrote it: facts left out of a full
/// summary (`over_cap`), archived, found by no recall.
@Suite struct ReconsolidationTests {
    static let facts = [
        "Prefers morning meetings before ten.", "The staging cluster lives in Frankfurt.",
        "Invoices go to the finance mailbox.", "The mobile app ships through TestFlight.",
        "Design reviews happen on Thursdays.", "The data warehouse is Snowflake.",
        "Support tickets are triaged by Dana.", "Passwords rotate every quarter.",
    ]

    /// Stores the facts in one ended session and writes the consolidation the earlier release
    /// would have: two lines in its summary, the rest `over_cap` and archived.
    static func oldConsolidation(_ test: TestStore, agent: String) async throws -> (id: String, ids: [String]) {
        let session = try await test.store.startSession(SessionStart(agentID: agent))
        var ids: [String] = []
        for fact in facts {
            ids.append(try await test.store.storeMemory(
                NewMemory(agentID: agent, sessionID: session.id, content: fact, importance: 0.7, tags: ["ops"])).id)
            test.clock.advance(seconds: 60)
        }
        _ = try await test.store.endSession(id: session.id)
        let now = test.clock.now()
        let consolidationID = MemoryStore.newID(now: now)
        let summary = Memory(
            id: MemoryStore.newID(now: now), agentID: agent, content: "- \(facts[0])\n- \(facts[1])", memoryType: .semantic,
            importance: 0.7, tags: [Memory.summaryTag, "ops"],
            metadata: .object(["consolidation_id": .string(consolidationID)]), createdAt: now)
        let sources = ids.enumerated().map { index, id in
            ConsolidationSource(
                sourceMemoryID: id, consolidationID: consolidationID, summaryID: index < 2 ? summary.id : nil,
                sourceSessionID: session.id, fate: index < 2 ? .kept : .overCap)
        }
        let written = try await test.store.commitConsolidations(
            [ConsolidationCommit(
                consolidationID: consolidationID, agentID: agent, sessionIDs: [session.id], sourceIDs: ids,
                summaries: [summary], sources: sources)],
            now: now, dryRun: false)
        #expect(written == [true])
        return (consolidationID, ids)
    }

    static func found(_ test: TestStore, agent: String, _ fact: String) async throws -> [String] {
        var query = RecallQuery(agentID: agent, query: fact)
        query.topK = 3
        return try await test.store.recall(query, weights: RecallWeights()).hits.map(\.memory.id)
    }

    @Test(arguments: TestBackend.allCases)
    func aConsolidationOfTheOldPolicyIsRedoneAndEveryOverCapFactIsRecalledAgain(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let (consolidationID, ids) = try await Self.oldConsolidation(test, agent: "old")
            let overCap = Array(zip(ids, Self.facts).dropFirst(2))
            for (id, fact) in overCap { #expect(try await !Self.found(test, agent: "old", fact).contains(id)) }
            let runner = test.runner().withoutEmbedder()

            let preview = try await runner.reconsolidate(agentID: "old", consolidationID: nil, now: test.clock.now(), dryRun: true)
            #expect(preview.consolidations.map(\.id) == [consolidationID])
            #expect(preview.consolidations[0].fates == [.kept: 2, .overCap: 6])
            #expect(!preview.consolidations[0].undone && preview.runs.isEmpty)
            #expect(try await !Self.found(test, agent: "old", overCap[0].1).contains(overCap[0].0), "a dry run changes nothing")

            let report = try await runner.reconsolidate(agentID: nil, consolidationID: consolidationID, now: test.clock.now(), dryRun: false)
            #expect(report.consolidations.map(\.undone) == [true])
            #expect(report.runs.map(\.status) == [.ok])
            #expect(report.runs[0].fates?["kept"] == Self.facts.count)
            #expect(report.runs[0].fates?["over_cap"] == nil)
            for (id, fact) in overCap { #expect(try await Self.found(test, agent: "old", fact).contains(id), "\(fact)") }
            #expect(try await test.store.consolidations(agentID: "old").count == 1, "the old one is gone, the new one holds them")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aConsolidationWhoseSourcesWerePurgedStaysAsItIs(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let (consolidationID, ids) = try await Self.oldConsolidation(test, agent: "gone")
            _ = try await test.store.forget(ids: [ids[5]], agentID: "gone")
            let report = try await test.runner().withoutEmbedder().reconsolidate(
                agentID: "gone", consolidationID: nil, now: test.clock.now(), dryRun: false)
            #expect(report.consolidations.map(\.undone) == [false])
            #expect(report.consolidations[0].reason?.contains("already purged") == true)
            #expect(report.runs.isEmpty)
            #expect(try await test.store.consolidations(agentID: "gone").map(\.id) == [consolidationID])
        }
    }
}
