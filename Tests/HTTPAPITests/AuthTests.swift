import Crypto
import Foundation
import HTTPAPI
import MemoryService
import MemoryStore
import TestSupport
import Testing

@Suite struct AuthTests {
    static func key(_ secret: String, _ scope: Scope, _ agents: String) -> APIKey {
        APIKey(sha256: Array(SHA256.hash(data: Array(secret.utf8))), scope: scope, agents: AgentPattern(agents))
    }

    func withHarness(_ backend: TestBackend, _ body: @Sendable (APIHarness) async throws -> Void) async throws {
        try await APIHarness.with(backend, {
            $0.keys = [
                Self.key("reader", .read, "support-customer-*"), Self.key("writer", .write, "support-customer-*"),
                Self.key("admin", .admin, "*"),
            ]
        }, body)
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    @Test func theConfigurationShapeOfTheIssueHashesAKeyToItsSHA256() {
        // 9f86…0a08 is the SHA-256 of "test".
        let configured = APIKey.digest(hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")!
        let key = APIKey(sha256: configured, scope: .write, agents: AgentPattern("support-customer-*"))
        #expect(APIKey.find(secret: "test", in: [key]) == key)
        #expect(APIKey.find(secret: "test ", in: [key]) == nil)
        #expect(APIKey.digest(hex: "9f86") == nil)
    }

    @Test func agentPatternsMatchWithStars() {
        #expect(AgentPattern("support-customer-*").matches("support-customer-9182"))
        #expect(!AgentPattern("support-customer-*").matches("billing-1"))
        #expect(AgentPattern("*").matches("anything"))
        #expect(AgentPattern("a*b*c").matches("aXXbYc"))
        #expect(!AgentPattern("a*b*c").matches("aXXbY"))
        #expect(AgentPattern("exact").matches("exact") && !AgentPattern("exact").matches("exact2"))
    }

    @Test(arguments: TestBackend.allCases)
    func withoutAValidKeyOnlyTheProbesAnswer(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            try await h.run { client in
                let none = try await client.call(.get, "/v1/sessions")
                #expect(none.status == 401 && none.code == "AUTHENTICATION_REQUIRED")
                let wrong = try await client.call(.get, "/v1/sessions", headers: Self.bearer("nope"))
                #expect(wrong.status == 401 && wrong.code == "INVALID_API_KEY")
                #expect(try await client.call(.get, "/metrics").status == 401)
                #expect(try await client.call(.get, "/health").status == 200)
                #expect(try await client.call(.get, "/health/ready").status == 503)
                #expect(try await client.call(.get, "/v1/sessions", headers: Self.bearer("reader")).status == 200)
                #expect(try await client.call(.get, "/v1/sessions", headers: ["X-API-Key": "reader"]).status == 200)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func scopesAndAgentPatternsLimitWhatAKeyTouches(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let ours = try await h.store.startSession(SessionStart(agentID: "support-customer-1"))
            let theirs = try await h.store.startSession(SessionStart(agentID: "billing-7"))
            let theirMemory = try await h.store.storeMemory(NewMemory(agentID: "billing-7", content: "invoice overdue"))
            let before = try await h.test.exportText()
            try await h.run { client in
                let store = #"{"agent_id": "support-customer-1", "content": "prefers email"}"#
                let readerStore = try await client.call(.post, "/v1/memory/store", store, headers: Self.bearer("reader"))
                #expect(readerStore.status == 403 && readerStore.code == "INSUFFICIENT_SCOPE", "\(readerStore.text)")
                let foreign = try await client.call(
                    .post, "/v1/memory/store", #"{"agent_id": "billing-7", "content": "x"}"#, headers: Self.bearer("writer"))
                #expect(foreign.status == 403 && foreign.code == "NAMESPACE_ACCESS_DENIED")
                // Another tenant's session and memory answer exactly like missing ones.
                for (uri, missing) in [
                    ("/v1/sessions/\(theirs.id)", "/v1/sessions/no-such-session"),
                    ("/v1/memory/get/\(theirMemory.id)", "/v1/memory/get/no-such-memory"),
                ] {
                    let hidden = try await client.call(.get, uri, headers: Self.bearer("writer"))
                    let absent = try await client.call(.get, missing, headers: Self.bearer("writer"))
                    #expect(hidden.status == 404 && absent.status == 404)
                    #expect(hidden.code == absent.code)
                }
                #expect(try await client.call(.post, "/v1/sessions/\(theirs.id)/touch", headers: Self.bearer("writer")).status == 404)
                #expect(try await client.call(.post, "/v1/sessions/\(theirs.id)/end", headers: Self.bearer("writer")).status == 404)
                let listed = try await client.call(.get, "/v1/sessions", headers: Self.bearer("writer"))
                #expect(!listed.text.contains(theirs.id))
                #expect(listed.text.contains(ours.id))
                #expect(!(try await client.call(.get, "/v1/agents", headers: Self.bearer("reader")).text.contains("billing-7")))
                #expect(try await client.call(.get, "/v1/admin/jobs", headers: Self.bearer("writer")).status == 403)
            }
            #expect(try await h.test.exportText() == before)
            try await h.run { client in
                let written = try await client.call(
                    .post, "/v1/memory/store", #"{"agent_id": "support-customer-1", "content": "prefers email"}"#,
                    headers: Self.bearer("writer"))
                #expect(written.status == 201)
                #expect(try await client.call(.get, "/v1/admin/jobs", headers: Self.bearer("admin")).status == 200)
                #expect(try await client.call(.get, "/v1/sessions/\(theirs.id)", headers: Self.bearer("admin")).status == 200)
            }
        }
    }
}
