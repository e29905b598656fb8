import Foundation
import HTTPTypes
import MemoryService
import MemoryStore
import TestSupport
import Testing

/// Every route with bad input: a 4xx in Dakera's error shape naming what was wrong, and the
/// store's export byte-identical before and after.
@Suite struct BadInputTests {
    struct Case: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var status: Int
        var message: String
    }

    static let big = String(repeating: "x", count: 100_001)

    static func cases(session: String, memory: String) -> [Case] {
        [
            Case(method: .post, uri: "/v1/sessions/start", body: "{bad", status: 400, message: "body is not valid JSON"),
            Case(method: .post, uri: "/v1/sessions/start", body: "[1]", status: 400, message: "body must be a JSON object"),
            Case(method: .post, uri: "/v1/sessions/start", body: "{}", status: 400, message: "agent_id is required"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": 5}"#, status: 400, message: "agent_id must be a string"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": "bad id"}"#, status: 400, message: "agent_id must match"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": "a1", "idle_timeout_secs": -1}"#, status: 400, message: "idle_timeout_secs must be 0"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": "a1", "idle_timeout_secs": 1.5}"#, status: 400, message: "idle_timeout_secs must be an integer"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": "a1", "metadata": [1]}"#, status: 400, message: "metadata must be a JSON object"),
            Case(method: .post, uri: "/v1/sessions/nope/touch", body: nil, status: 404, message: "session nope not found"),
            Case(method: .post, uri: "/v1/sessions/nope/end", body: nil, status: 404, message: "session nope not found"),
            Case(method: .post, uri: "/v1/sessions/\(session)/end", body: #"{"summary": 5}"#, status: 400, message: "summary must be a string"),
            Case(method: .post, uri: "/v1/sessions/\(session)/end", body: #"{"summary": "\#(big)"}"#, status: 400, message: "summary must be at most 100000 bytes"),
            Case(method: .get, uri: "/v1/sessions/nope", body: nil, status: 404, message: "session nope not found"),
            Case(method: .get, uri: "/v1/sessions?limit=0", body: nil, status: 400, message: "limit must be an integer from 1 to 1000"),
            Case(method: .get, uri: "/v1/sessions?active_only=maybe", body: nil, status: 400, message: "active_only must be true or false"),
            Case(method: .get, uri: "/v1/sessions?agent_id=bad%20id", body: nil, status: 400, message: "agent_id must match"),
            Case(method: .get, uri: "/v1/sessions/nope/memories", body: nil, status: 404, message: "session nope not found"),
            Case(method: .get, uri: "/v1/sessions/\(session)/memories?limit=x", body: nil, status: 400, message: "limit must be an integer"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "importance": 1.5}"#, status: 400, message: "importance must be between 0 and 1"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "importance": "high"}"#, status: 400, message: "importance must be a number"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "memory_type": "dream"}"#, status: 400, message: "memory_type must be one of"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1"}"#, status: 400, message: "content is required"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "\#(big)"}"#, status: 400, message: "content must be at most 100000 bytes"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "tags": [\#((0..<33).map { "\"t\($0)\"" }.joined(separator: ","))]}"#, status: 400, message: "tags must hold at most 32 tags"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "tags": "t"}"#, status: 400, message: "tags must be an array of strings"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "session_id": "nope"}"#, status: 404, message: "session nope not found"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "ttl_seconds": 0}"#, status: 400, message: "ttl_seconds must be a number of seconds from 1 to"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"agent_id": "a1", "filter": {"session_id": "bad id"}}"#, status: 400, message: "filter.session_id must match"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"agent_id": "a1", "memory_ids": ["ok", "bad id"]}"#, status: 400, message: "memory_ids must match"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"agent_id": "a1", "filter": {"tags": [""]}}"#, status: 400, message: "filter.tags must be non-empty strings"),
            Case(method: .get, uri: "/v1/memory/recall?agent_id=a1&tags=", body: nil, status: 400, message: "tags must be comma-separated values, none of them empty"),
            Case(method: .get, uri: "/v1/memory/recall?agent_id=a1&tags=a,,b", body: nil, status: 400, message: "tags must be comma-separated values, none of them empty"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "tags": ["\#(String(repeating: "t", count: 257))"]}"#, status: 400, message: "tags must be non-empty strings of at most 256 characters"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "expires_at": "1900-01-01T00:00:00Z"}"#, status: 400, message: "expires_at must be Unix seconds or an RFC 3339 time"),
            Case(method: .post, uri: "/v1/admin/jobs/decay/run?dry_run=true", body: #"{"dry_run": "yes"}"#, status: 400, message: "dry_run must be true or false"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "ttl_seconds": 9000000000000000}"#, status: 400, message: "ttl_seconds must be a number of seconds from 1 to"),
            Case(method: .post, uri: "/v1/sessions/start", body: #"{"agent_id": "a1", "idle_timeout_secs": 9000000000000000}"#, status: 400, message: "idle_timeout_secs must be 0 (never) or a number of seconds up to"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "expires_at": "tomorrow"}"#, status: 400, message: "expires_at must be Unix seconds or an RFC 3339 time"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "created_at": "last week"}"#, status: 400, message: "created_at must be Unix seconds or an RFC 3339 time"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "x", "created_at": -5}"#, status: 400, message: "created_at must be"),
            Case(method: .post, uri: "/v1/memories/store/batch", body: #"{"agent_id": "a1", "memories": [{"content": "x"}, {"content": "y", "created_at": "soon"}]}"#, status: 400, message: "memories[1].created_at must be Unix seconds or an RFC 3339 time"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "", "content": "x"}"#, status: 400, message: "agent_id must match"),
            Case(method: .post, uri: "/v1/memory/store", body: #"{"agent_id": "a1", "content": "\#(String(repeating: "y", count: 1 << 20))"}"#, status: 413, message: "request body is over 1048576 bytes"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": "x", "top_k": 0}"#, status: 400, message: "top_k must be between 1 and 100"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": "x", "min_importance": 2}"#, status: 400, message: "min_importance must be between 0 and 1"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": 5}"#, status: 400, message: "query must be a string"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": "x", "since": "yesterday"}"#, status: 400, message: "since must be Unix seconds or an RFC 3339 time"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": "x", "session_id": "nope"}"#, status: 404, message: "session nope not found"),
            Case(method: .post, uri: "/v1/memory/recall", body: #"{"agent_id": "a1", "query": "x", "memory_type": "dream"}"#, status: 400, message: "memory_type must be one of"),
            Case(method: .get, uri: "/v1/memory/recall?agent_id=a1&query=x&top_k=abc", body: nil, status: 400, message: "top_k must be a number"),
            Case(method: .get, uri: "/v1/memory/recall?query=x", body: nil, status: 400, message: "agent_id is required"),
            Case(method: .get, uri: "/v1/memory/recall?agent_id=a1&query=x&top_k=1000", body: nil, status: 400, message: "top_k must be between 1 and 100"),
            Case(method: .get, uri: "/v1/memory/get/nope", body: nil, status: 404, message: "memory nope not found"),
            Case(method: .get, uri: "/v1/memory/get/\(memory)?agent_id=someone-else", body: nil, status: 404, message: "not found"),
            Case(method: .put, uri: "/v1/memory/update/\(memory)", body: #"{"importance": -1}"#, status: 400, message: "importance must be between 0 and 1"),
            Case(method: .put, uri: "/v1/memory/update/\(memory)", body: #"{"content": ""}"#, status: 400, message: "content must not be empty"),
            Case(method: .put, uri: "/v1/memory/update/\(memory)", body: "{oops", status: 400, message: "body is not valid JSON"),
            Case(method: .put, uri: "/v1/memory/update/nope", body: #"{"importance": 0.5}"#, status: 404, message: "memory nope not found"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"agent_id": "a1", "memory_ids": []}"#, status: 400, message: "memory_ids must list 1 to 1000 memory ids"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"agent_id": "a1", "memory_ids": [], "memory_id": "\#(memory)"}"#, status: 400, message: "memory_ids must list 1 to 1000 memory ids"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"agent_id": "a1", "memory_ids": [\#(Array(repeating: "\"m\"", count: 1001).joined(separator: ","))]}"#, status: 400, message: "memory_ids must list 1 to 1000 memory ids"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"agent_id": "a1", "memory_ids": "m"}"#, status: 400, message: "memory_ids must be an array of strings"),
            Case(method: .post, uri: "/v1/memory/forget", body: #"{"memory_ids": ["\#(memory)"]}"#, status: 400, message: "agent_id is required"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"queries": []}"#, status: 400, message: "queries must hold 1 to 32 queries"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"queries": [5]}"#, status: 400, message: "queries[0] must be a JSON object"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"queries": [{"agent_id": "a1", "query": "x"}, {"agent_id": "a1", "top_k": true}]}"#, status: 400, message: "queries[1].top_k must be a number"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"queries": [{"agent_id": "a1", "query": "x"}, {"agent_id": "a1", "top_k": 0}]}"#, status: 400, message: "queries[1].top_k must be between 1 and 100"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"queries": [{"agent_id": "a1", "query": "x"}, {"agent_id": "a1", "min_importance": 7}]}"#, status: 400, message: "queries[1].min_importance must be between 0 and 1"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"agent_id": "a1", "limit": 0}"#, status: 400, message: "limit must be between 1 and 1000"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"agent_id": "a1", "filter": {"min_importance": 3}}"#, status: 400, message: "filter.min_importance must be between 0 and 1"),
            Case(method: .post, uri: "/v1/memories/recall/batch", body: #"{"agent_id": "a1", "filter": 3}"#, status: 400, message: "filter must be a JSON object"),
            Case(method: .post, uri: "/v1/memories/store/batch", body: #"{"agent_id": "a1", "memories": []}"#, status: 400, message: "memories must be an array of 1 to 1000 memories"),
            Case(method: .post, uri: "/v1/memories/store/batch", body: #"{"agent_id": "a1", "memories": [{"content": "fine"}, {"content": "x", "importance": 9}]}"#, status: 400, message: "memories[1].importance must be between 0 and 1"),
            Case(method: .post, uri: "/v1/memories/store/batch", body: #"{"agent_id": "a1", "memories": [{"content": "fine"}, {"importance": 0.5}]}"#, status: 400, message: "memories[1].content is required"),
            Case(method: .post, uri: "/v1/memories/store/batch", body: #"{"agent_id": "a1", "memories": [{"content": "fine"}, {"content": "x", "session_id": "nope"}]}"#, status: 404, message: "session nope not found"),
            Case(method: .get, uri: "/v1/agents/nobody/stats", body: nil, status: 404, message: "agent nobody not found"),
            Case(method: .get, uri: "/v1/agents/bad%20id/stats", body: nil, status: 400, message: "agent_id must match"),
            Case(method: .get, uri: "/v1/agents/a1/sessions?limit=0", body: nil, status: 400, message: "limit must be an integer from 1 to 1000"),
            Case(method: .post, uri: "/v1/agents/bad%20id/consolidate", body: nil, status: 400, message: "agent_id must match"),
            Case(method: .post, uri: "/v1/webhooks/session-end", body: #"{"session_id": "\#(session)"}"#, status: 400, message: "webhook-id header is required"),
            Case(method: .post, uri: "/v1/sessions/\(session)/beacon", body: "forged.token", status: 401, message: "beacon_token is not valid"),
            Case(method: .post, uri: "/v1/admin/jobs/vacuum/run", body: nil, status: 404, message: "no job vacuum"),
            Case(method: .post, uri: "/v1/admin/jobs/decay/run?dry_run=perhaps", body: nil, status: 400, message: "dry_run must be true or false"),
            Case(method: .get, uri: "/v1/nothing-here", body: nil, status: 404, message: "no such route"),
        ]
    }

    @Test(arguments: TestBackend.allCases)
    func everyRouteRefusesBadInputNamingTheFieldAndChangesNothing(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { harness in
            let session = try await harness.store.startSession(SessionStart(agentID: "a1"))
            let memory = try await harness.store.storeMemory(
                NewMemory(agentID: "a1", sessionID: session.id, content: "customer runs PostgreSQL 14", importance: 0.8))
            let before = try await harness.test.exportText()
            let cases = Self.cases(session: session.id, memory: memory.id)
            try await harness.run { client in
                for c in cases {
                    let reply = try await client.call(c.method, c.uri, c.body)
                    let label = "\(c.method) \(c.uri.prefix(80))"
                    #expect(reply.status == c.status, "\(label): \(reply.status) \(reply.text.prefix(200))")
                    #expect(reply.error.contains(c.message), "\(label): \(reply.text.prefix(200))")
                    #expect(reply.object["status"]?.number == Double(c.status), "\(label): no status field")
                    #expect(!reply.code.isEmpty, "\(label): no code")
                }
            }
            let after = try await harness.test.exportText()
            #expect(after == before, "before:\n\(before)\nafter:\n\(after)")
        }
    }
}
