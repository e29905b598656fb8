import Foundation
import MemoryStore
import Testing
import TestSupport

/// The official Python `mcp` client drives `memkeepd mcp` (stdio) and `/mcp` on
/// `memkeepd serve` with the script `Tests/compat/mcp_client.py`.
@Suite struct MCPClientTests {
    static let clientVersion = "1.27.0"
    static let agent = "support-customer-9182"
    static let script = SystemdUnitTests.repository.appendingPathComponent("Tests/compat/mcp_client.py").path

    static func python() async throws -> String {
        try await PythonEnvironment.python(
            name: "mcp-\(clientVersion)", packages: ["mcp==\(clientVersion)"], probe: "import mcp.client.streamable_http")
    }

    /// What the script leaves behind, whichever transport: the fact and the task, the small
    /// talk forgotten, the session ended, and nothing from the refused calls.
    static func expectStoreAfterTheScript(_ store: MemoryStore) async throws {
        let memories = try await store.memories(agentID: agent)
        #expect(memories.map(\.content).sorted() == ["Auth is done; rate limiting is next.", "The primary database is AlloyDB."])
        #expect(memories.allSatisfy { $0.accessCount >= 1 })
        let sessions = try await store.sessions(agentID: nil, visibleTo: nil, openOnly: false, limit: 10, offset: 0)
        #expect(sessions.count == 1)
        #expect(sessions.first?.endedReason == .client)
        #expect(sessions.first?.summary == "Planned rate limiting.")
    }

    @Test func theOfficialClientDrivesTheStdioServer() async throws {
        let python = try await Self.python()
        let m = try Memkeepd(["MEMKEEP_MCP_DEFAULT_AGENT": Self.agent, "MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_LOG_LEVEL": "info"])
        let (process, out, err) = try m.start(["stdio"], launcher: [python, Self.script])
        let (status, stdout, stderr) = await process.finish(stdout: out, stderr: err)
        #expect(status == 0, "\(stdout)\n--- stderr ---\n\(stderr)")
        #expect(stdout.contains("all ok"), "\(stdout)")
        #expect(stderr.contains("memkeepd mcp serving on stdio"), "the server logs to stderr: \(stderr)")
        try await Self.expectStoreAfterTheScript(try m.store())
    }

    /// Requests piped in with the input closed at once are all answered, and stdout carries
    /// nothing but protocol messages, even at log level debug.
    @Test func stdoutCarriesOnlyTheAnswersEvenWhenTheInputEndsAtOnce() async throws {
        let m = try Memkeepd(["MEMKEEP_LOG_LEVEL": "debug", "MEMKEEP_EMBEDDINGS_PROVIDER": "none"])
        let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
        let input = try m.write("input.jsonl", initialize + "\n" + #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"# + "\n")
        let (process, out, err) = try m.start([], launcher: ["/bin/sh", "-c", "exec \"$0\" mcp < '\(input)'"])
        let (status, stdout, stderr) = await process.finish(stdout: out, stderr: err)
        #expect(status == 0, "\(stderr)")
        let lines = stdout.split(separator: "\n")
        let messages = try lines.map { try JSONValue.parse(String($0)).objectValue ?? [:] }
        // Each request is handled on its own, so the answers may come in either order.
        #expect(Set(messages.compactMap { $0["id"]?.jsonText() }) == ["1", "2"], "\(stdout)")
        #expect(messages.allSatisfy { $0["jsonrpc"] == .string("2.0") && $0["result"] != nil }, "\(stdout)")
        #expect(stderr.contains("memkeepd mcp serving on stdio"))
    }

    @Test func theOfficialClientDrivesMCPOverHTTPAndAnotherTenantsKeyReachesNothing() async throws {
        let python = try await Self.python()
        let m = try Memkeepd(["MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_ORPHANS_MAX_SLEEP": "1h"])
        let mine = "mcp-mine-\(UUID().uuidString)"
        let other = "mcp-other-\(UUID().uuidString)"
        func digest(_ key: String) async throws -> String {
            String(try await Process.tool("/usr/bin/sh", ["-c", "printf %s '\(key)' | sha256sum"]).output.prefix(64))
        }
        let config = try m.write(
            "memkeep.yaml",
            """
            auth:
              keys:
                - sha256: \(try await digest(mine))
                  scope: write
                  agents: "\(Self.agent)"
                - sha256: \(try await digest(other))
                  scope: write
                  agents: "other-*"
            """)
        let daemon = try await m.serve(["--config", config])
        #expect(try await daemon.notify.next("READY=1") != nil)
        let run = try await Process.tool(
            python, [Self.script, Memkeepd.binary, "http", "http://127.0.0.1:\(daemon.port)/mcp", mine, other])
        let (exit, stderr) = await daemon.stop()
        #expect(run.status == 0, "\(run.output)\n--- memkeepd stderr ---\n\(stderr)")
        #expect(run.output.contains("other tenant: refused"), "\(run.output)")
        #expect(run.output.contains("all ok"), "\(run.output)")
        #expect(exit == 0)
        try await Self.expectStoreAfterTheScript(try m.store())
    }
}
