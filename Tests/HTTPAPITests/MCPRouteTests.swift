import Foundation
import HTTPAPI
import MemoryStore
import Testing
import TestSupport

/// `/mcp` as plain HTTP: what a client without an MCP library, or a hostile one, gets.
@Suite struct MCPRouteTests {
    static let listTools = #"{"jsonrpc": "2.0", "id": 7, "method": "tools/list"}"#

    @Test(arguments: TestBackend.allCases, [nil, "*/*", "application/*;q=0.5, text/html", "application/json, text/event-stream"])
    func aRequestAcceptingJSONIsAnsweredAndGetIs405(backend: TestBackend, accept: String?) async throws {
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                let answer = try await client.call(.post, "/mcp", Self.listTools, headers: accept.map { ["Accept": $0] } ?? [:])
                #expect(answer.status == 200, "\(answer.text)")
                #expect(answer.object["id"] == .number(7))
                #expect(answer.text.contains(#""name":"get_context""#))
                let get = try await client.call(.get, "/mcp")
                #expect(get.status == 405)
                let notification = try await client.call(.post, "/mcp", #"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#)
                #expect(notification.status == 202)
            }
        }
    }

    @Test(arguments: TestBackend.allCases, [
        ("{}", [String: String](), 400, -32700),
        ("not json", [:], 400, -32700),
        (listTools, ["Origin": "https://evil.example"], 403, -32600),
        (#"{"jsonrpc": "2.0", "id": [null], "method": ""}"#, [:], 400, -32600),
        (#"{"jsonrpc": "2.0", "id": 1.5, "method": "tools/list"}"#, [:], 400, -32600),
        (#"{"jsonrpc": "2.0", "id": 9007199254740992, "method": "tools/list"}"#, [:], 400, -32600),
        (#"{"jsonrpc": "1.0", "id": 1, "method": "tools/list"}"#, [:], 400, -32600),
        (#"{"jsonrpc": "2.0", "method": "notifications/x", "params": 3}"#, [:], 400, -32600),
        (listTools, ["Accept": "text/html"], 406, -32600),
    ])
    func badRequestsGetJSONRPCErrorsAndChangeNothing(backend: TestBackend, row: (String, [String: String], Int, Int)) async throws {
        let (body, headers, status, code) = row
        try await APIHarness.with(backend) { h in
            let before = try await h.test.exportText()
            try await h.run { client in
                let answer = try await client.call(.post, "/mcp", body, headers: headers)
                #expect(answer.status == status, "\(answer.text)")
                #expect(answer.object["error"]?.objectValue?["code"] == .number(Double(code)), "\(answer.text)")
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func withKeysConfiguredMCPNeedsOneAndActsWithItsScope(backend: TestBackend) async throws {
        try await APIHarness.with(backend, { $0.keys = [AuthTests.key("reader", .read, "support-customer-*")] }) { h in
            let remember = #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "remember", "arguments": {"agent_id": "support-customer-1", "content": "Runs on AlloyDB."}}}"#
            try await h.run { client in
                #expect(try await client.call(.post, "/mcp", Self.listTools).status == 401)
                let refused = try await client.call(.post, "/mcp", remember, headers: AuthTests.bearer("reader"))
                #expect(refused.status == 200)
                #expect(refused.object["error"]?.objectValue?["code"] == .number(-32000), "\(refused.text)")
                #expect(refused.text.contains("INSUFFICIENT_SCOPE"), "\(refused.text)")
            }
            let outcome = try await h.store.memories(agentID: "support-customer-1")
            #expect(outcome.isEmpty)
        }
    }
}
