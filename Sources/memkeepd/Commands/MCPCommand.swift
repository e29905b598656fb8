import ArgumentParser
import Foundation
import HTTPAPI
import MCP
import MCPServer
import MemoryService
import MemoryStore

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve MCP on stdin and stdout, on the configured store (logs go to the journal or stderr).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options, withEmbedder: true) { app in
            let service = MemoryService(
                store: app.store, maintenance: DetachedMaintenance(), embedder: app.runner.embedder,
                recallWeights: app.configuration.http.recall, clock: app.clock)
            let mcp = MemoryMCP(service: service, version: APIDependencies.version, logger: app.logger)
            // The local user runs this process on the store file directly: the key checks of HTTP
            // have nothing to add.
            let server = await mcp.server(for: MCPCaller(principal: .open, configured: app.configuration.mcpDefaultAgent))
            try await server.start(transport: DrainingTransport(StdioTransport(logger: app.logger), logger: app.logger))
            app.logger.info("memkeepd mcp serving on stdio, store \(app.store.path)")
            await server.waitUntilCompleted()
        }
    }
}

/// The scheduler as seen from a process that runs none: a daemon on the same store notices
/// new memories and moved deadlines at its next check (`orphans.max_sleep`).
struct DetachedMaintenance: MaintenanceNotes {
    func noteNewMemories() {}
    func noteIdleDeadline(_ deadline: UnixMillis) {}
}
