import Foundation
import HTTPAPI
import Maintenance
import MemoryService
import MemoryStore
import Testing
import TestSupport

/// `supersedes` on store, `superseded_hidden` in recall answers and a summary's sources, over
/// the real server.
@Suite struct ConsolidationRoutesTests {
    @Test(arguments: TestBackend.allCases)
    func storeWithSupersedesHidesTheOldFactFromRecallAndSaysSo(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let old = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "deploys go through GitHub Actions"))
            try await h.run { client in
                let stored = try await client.call(
                    .post, "/v1/memory/store",
                    #"{"agent_id": "a1", "content": "deploys go through Buildkite", "supersedes": ["\#(old.id)"]}"#)
                #expect(stored.status == 201, "\(stored.text)")
                let newID = try #require(stored.string("memory", "id"))
                #expect(stored.object["superseded"] == .array([.string(old.id)]))
                #expect(try await h.store.memory(id: old.id)?.supersededBy == newID)

                let recall = try await client.call(.post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "deploys"}"#)
                #expect(recall.object["superseded_hidden"] == .number(1))
                #expect(!recall.text.contains(old.id))
                let all = try await client.call(
                    .post, "/v1/memory/recall", #"{"agent_id": "a1", "query": "deploys", "include_superseded": true}"#)
                #expect(all.object["superseded_hidden"] == .number(0))
                #expect(all.text.contains(old.id))
            }
        }
    }

    @Test(arguments: TestBackend.allCases, [
        (#"["nope"]"#, 404, "supersedes: memory nope not found among agent a1's memories"),
        (#"["OTHER"]"#, 404, "supersedes: memory OTHER not found among agent a1's memories"),
        (#""x""#, 400, "supersedes must be an array of strings"),
        (#"["bad id!"]"#, 400, "supersedes must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
        (#"["SAME", "SAME"]"#, 400, "supersedes must not list a memory id twice"),
    ])
    func badSupersedesIsRefusedAndChangesNothing(backend: TestBackend, row: (String, Int, String)) async throws {
        let (list, status, message) = row
        try await APIHarness.with(backend) { h in
            let own = try await h.store.storeMemory(NewMemory(id: "SAME", agentID: "a1", content: "mine"))
            let other = try await h.store.storeMemory(NewMemory(id: "OTHER", agentID: "a2", content: "theirs"))
            let before = try await h.test.exportText()
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memory/store", #"{"agent_id": "a1", "content": "new", "supersedes": \#(list)}"#)
                #expect(reply.status == status)
                #expect(reply.error == message)
            }
            #expect(try await h.test.exportText() == before)
            #expect(try await h.store.memory(id: own.id)?.supersededBy == nil)
            let outcome = try await h.store.memory(id: other.id)?.supersededBy
            #expect(outcome == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aMemoryCannotSupersedeItself(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memory/store", #"{"agent_id": "a1", "id": "self", "content": "x", "supersedes": ["self"]}"#)
                #expect(reply.status == 404)
                #expect(reply.error == "supersedes: memory self not found among agent a1's memories")
            }
            let outcome = try await h.store.memory(id: "self")
            #expect(outcome == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBatchItemWithABadSupersedesRejectsTheWholeBatch(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let before = try await h.test.exportText()
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memories/store/batch",
                    #"{"agent_id": "a1", "memories": [{"content": "fine"}, {"content": "x", "supersedes": [1]}]}"#)
                #expect(reply.status == 400)
                #expect(reply.error.hasPrefix("memories[1].supersedes"))
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSummarysSourcesAnswerWithFatesUnderTheSameTenancyRules(backend: TestBackend) async throws {
        try await APIHarness.with(backend, { $0.keys = [AuthTests.key("reader", .read, "support-customer-*"), AuthTests.key("other", .read, "other-*")] }) { h in
            let agent = "support-customer-1"
            let session = try await h.store.startSession(SessionStart(agentID: agent))
            let thanks = try await h.store.storeMemory(
                NewMemory(agentID: agent, sessionID: session.id, content: "Customer said thanks.", importance: 0.2))
            let fact = try await h.store.storeMemory(
                NewMemory(agentID: agent, sessionID: session.id, content: "Primary database is AlloyDB.", importance: 0.9))
            _ = try await h.store.endSession(id: session.id)
            let report = await h.scheduler.runNow(.consolidate, trigger: .admin, dryRun: false, agent: agent)
            let summaryID = try #require(report.summaries?.first)
            try await h.run { client in
                let reply = try await client.call(.get, "/v1/memory/\(summaryID)/sources", headers: AuthTests.bearer("reader"))
                #expect(reply.status == 200, "\(reply.text)")
                #expect(reply.string("consolidation_id") == report.consolidations?.first)
                guard case .array(let sources)? = reply.object["sources"] else { Issue.record("no sources"); return }
                let fates = Dictionary(uniqueKeysWithValues: sources.map { ($0["memory_id"]?.text ?? "", $0["fate"]?.text ?? "") })
                #expect(fates == [fact.id: "kept", thanks.id: "below_floor"])
                #expect(reply.object["fates"] == .object(["kept": .number(1), "below_floor": .number(1)]))

                let source = try await client.call(.get, "/v1/memory/\(thanks.id)/sources", headers: AuthTests.bearer("reader"))
                #expect(source.status == 200)
                #expect(source.text.contains(#""fate":"below_floor""#))

                let foreign = try await client.call(.get, "/v1/memory/\(summaryID)/sources", headers: AuthTests.bearer("other"))
                #expect(foreign.status == 404)
                let anonymous = try await client.call(.get, "/v1/memory/\(summaryID)/sources")
                #expect(anonymous.status == 401)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPlainMemoryHasNoSources(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let plain = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "plain"))
            try await h.run { client in
                let reply = try await client.call(.get, "/v1/memory/\(plain.id)/sources")
                #expect(reply.status == 404)
                #expect(reply.error == "memory \(plain.id) is neither a consolidation summary nor a consolidated source")
                #expect(try await client.call(.get, "/v1/memory/missing/sources").status == 404)
            }
        }
    }
}
