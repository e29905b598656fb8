import Foundation
import HTTPAPI
import MemoryService
import MemoryStore
import Testing
import TestSupport

/// `GET|POST /v1/agents/{id}/context` over the real server and store.
@Suite struct ContextRouteTests {
    static let agent = "support-customer-9182"
    static let day = 86_400.0

    /// Starts a session, stores its facts and ends it, all through the API.
    static func session(_ client: APIClient, _ facts: [(String, Double)], end: Bool = true) async throws -> String {
        let started = try await client.call(.post, "/v1/sessions/start", #"{"agent_id": "\#(agent)"}"#)
        let id = try #require(started.string("session", "id"), "\(started.text)")
        for (content, importance) in facts {
            let body = JSONValue.object([
                "agent_id": .string(agent), "session_id": .string(id), "content": .string(content),
                "importance": .number(importance),
            ])
            let stored = try await client.call(.post, "/v1/memory/store", body.jsonText())
            #expect(stored.status == 201, "\(stored.text)")
        }
        if end { #expect(try await client.call(.post, "/v1/sessions/\(id)/end").status == 200) }
        return id
    }

    /// The opening example of DESIGN.md over six months: a stack, a later change of database,
    /// a constraint, an open task and many routine sessions, consolidated twice on the way.
    @Test(arguments: TestBackend.allCases)
    func aSixMonthJourneysContextHoldsTheCurrentStackTheOpenTaskAndTheConstraintNotTheOldDatabase(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            h.clock.set(TimeFormat.parseRFC3339("2026-01-05T09:00:00Z")!)
            try await h.run { client in
                _ = try await Self.session(client, [
                    ("The customer's API is built with FastAPI.", 0.9), ("The API runs on AWS ECS.", 0.85),
                    ("The primary database is PostgreSQL 14.", 0.9), ("Constraint: AWS free tier only.", 0.9),
                    ("Customer said thanks.", 0.2),
                ])
                for week in 1...24 {
                    h.clock.advance(seconds: 7 * Self.day)
                    var facts = [("Asked how to read the logs of worker \(week).", 0.4), ("Customer said thanks.", 0.2)]
                    if week == 14 { facts.append(("We migrated the database from PostgreSQL 14 to MySQL 8 last week.", 0.9)) }
                    if week == 22 { facts.append(("Auth is done; rate limiting is next.", 0.85)) }
                    if week == 24 { facts.append(("The customer wants a weekly usage report.", 0.8)) }
                    _ = try await Self.session(client, facts, end: week < 23)
                    if week == 8 || week == 20 {
                        let consolidated = try await client.call(.post, "/v1/agents/\(Self.agent)/consolidate")
                        #expect(consolidated.status == 200, "\(consolidated.text)")
                    }
                }
                let context = try await client.call(.get, "/v1/agents/\(Self.agent)/context")
                #expect(context.status == 200, "\(context.text)")
                let text = try #require(context.string("context"))
                for expected in ["FastAPI", "AWS ECS", "MySQL 8", "AWS free tier only", "rate limiting is next"] {
                    #expect(text.contains(expected), "\(expected) missing from:\n\(text)")
                }
                // The change statement names the old database; the fact it superseded is gone.
                #expect(!text.contains("The primary database is PostgreSQL 14"), "\(text)")
                // Consolidation kept the facts live: they are current facts, each said once, with its date.
                #expect(text.hasPrefix("Current facts:\n- [2026-04-13] We migrated the database from PostgreSQL 14 to MySQL 8"), "\(text)")
                for fact in ["built with FastAPI", "runs on AWS ECS", "AWS free tier only", "weekly usage report"] {
                    #expect(text.components(separatedBy: fact).count == 2, "\(fact) once in:\n\(text)")
                }
                #expect(text.contains("\n\nOpen tasks:\n- [2026-06-08] Auth is done; rate limiting is next."), "\(text)")
                guard case .number(let tokens)? = context.object["tokens"] else { Issue.record("no tokens"); return }
                #expect(Int(tokens) <= 400)
                #expect(Int(tokens) == ContextBuilder.estimatedTokens(text))
                var filter = MemoryFilter()
                filter.tags = [Memory.summaryTag]
                let summaries = try await h.store.filteredMemories(agentID: Self.agent, filter: filter, limit: 100)
                #expect(summaries.memories.count >= 2, "both consolidations wrote summaries")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func getAndPostAgreeAndReturnedMemoriesCountAsAccessedAndTheSessionAsActive(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: Self.agent))
            let kept = try await h.store.storeMemory(
                NewMemory(agentID: Self.agent, sessionID: session.id, content: "Runs on AlloyDB.", importance: 0.9))
            let low = try await h.store.storeMemory(NewMemory(agentID: Self.agent, content: "Likes tea.", importance: 0.3))
            let old = try await h.store.storeMemory(NewMemory(agentID: Self.agent, content: "Deploys with Jenkins.", importance: 0.9))
            // Facts of equal importance come newest first: a second later, so the order is fixed.
            h.clock.advance(seconds: 1)
            _ = try await h.store.storeMemory(
                NewMemory(agentID: Self.agent, content: "Deploys with Buildkite.", importance: 0.9, supersedes: [old.id]))
            h.clock.advance(seconds: 600)
            try await h.run { client in
                let get = try await client.call(
                    .get, "/v1/agents/\(Self.agent)/context?budget_tokens=200&include=facts,open_tasks&session_id=\(session.id)")
                let post = try await client.call(
                    .post, "/v1/agents/\(Self.agent)/context",
                    #"{"budget_tokens": 200, "include": ["facts", "open_tasks"], "session_id": "\#(session.id)"}"#)
                #expect(get.status == 200, "\(get.text)")
                #expect(get.object["context"] == post.object["context"])
                let day = TimeFormat.day(h.clock.now())
                #expect(get.string("context") == "Current facts:\n- [\(day)] Deploys with Buildkite.\n- [\(day)] Runs on AlloyDB.")
                #expect(!get.text.contains(low.id) && !get.text.contains(old.id))
                #expect(get.object["truncated"] == .bool(false))
            }
            let accessed = try #require(try await h.store.memory(id: kept.id))
            #expect(accessed.accessCount == 2)
            #expect(accessed.lastAccessedAt == h.clock.now())
            #expect(try await h.store.memory(id: low.id)?.accessCount == 0)
            let outcome = try await h.store.session(id: session.id)?.lastActivityAt
            #expect(outcome == h.clock.now())
        }
    }

    @Test(arguments: TestBackend.allCases, [
        ("?budget_tokens=0", "budget_tokens must be an integer from 1 to 32768"),
        ("?budget_tokens=many", "budget_tokens must be a number"),
        ("?min_importance=1.5", "min_importance must be between 0 and 1"),
        ("?include=facts,nope", "include has \"nope\"; the parts are facts, summaries, open_tasks"),
        ("?session_id=bad%20id", "session_id must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
    ])
    func badParametersAreRefusedNamingTheFieldAndChangeNothing(backend: TestBackend, row: (String, String)) async throws {
        let (query, message) = row
        try await APIHarness.with(backend) { h in
            _ = try await h.store.storeMemory(NewMemory(agentID: Self.agent, content: "Runs on AlloyDB.", importance: 0.9))
            let before = try await h.test.exportText()
            try await h.run { client in
                let reply = try await client.call(.get, "/v1/agents/\(Self.agent)/context\(query)")
                #expect(reply.status == 400, "\(reply.text)")
                #expect(reply.code == "INVALID_ARGUMENT")
                #expect(reply.error == message)
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases, [
        (#"{"include": []}"#, 400, "include must name at least one of facts, summaries, open_tasks"),
        (#"{"include": "facts"}"#, 400, "include must be an array of strings"),
        (#"{"budget_tokens": 1.5}"#, 400, "budget_tokens must be an integer"),
        (#"{"query": 3}"#, 400, "query must be a string"),
        (#"[1]"#, 400, "body must be a JSON object"),
        (#"{"session_id": "elsewhere"}"#, 404, "session elsewhere not found"),
    ])
    func badBodiesAreRefusedAndChangeNothing(backend: TestBackend, row: (String, Int, String)) async throws {
        let (body, status, message) = row
        try await APIHarness.with(backend) { h in
            _ = try await h.store.storeMemory(NewMemory(agentID: Self.agent, content: "Runs on AlloyDB.", importance: 0.9))
            _ = try await h.store.startSession(SessionStart(id: "elsewhere", agentID: "another-agent"))
            let before = try await h.test.exportText()
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/agents/\(Self.agent)/context", body)
                #expect(reply.status == status, "\(reply.text)")
                #expect(reply.error == message)
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aKeyOfAnotherTenantGetsNoContext(backend: TestBackend) async throws {
        try await APIHarness.with(backend, { $0.keys = [AuthTests.key("mine", .read, "support-customer-*"), AuthTests.key("other", .read, "other-*")] }) { h in
            _ = try await h.store.storeMemory(NewMemory(agentID: Self.agent, content: "Runs on AlloyDB.", importance: 0.9))
            try await h.run { client in
                let refused = try await client.call(.get, "/v1/agents/\(Self.agent)/context", headers: AuthTests.bearer("other"))
                #expect(refused.status == 403)
                #expect(refused.code == "NAMESPACE_ACCESS_DENIED")
                #expect(!refused.text.contains("AlloyDB"))
                let allowed = try await client.call(.get, "/v1/agents/\(Self.agent)/context", headers: AuthTests.bearer("mine"))
                #expect(allowed.string("context") == "Current facts:\n- [\(TimeFormat.day(h.clock.now()))] Runs on AlloyDB.")
                let outcome = try await client.call(.get, "/v1/agents/\(Self.agent)/context").status
                #expect(outcome == 401)
            }
        }
    }
}
