import MemoryService
import MemoryStore

/// Who an MCP session acts for: the caller's key (or the local user on stdio) and the agent
/// a tool call means when it names none.
public struct MCPCaller: Sendable {
    public var principal: Principal
    public var defaultAgent: String?

    /// `configured` is `mcp.default_agent`; without it, a key limited to a single agent (a
    /// pattern without `*`) means that agent.
    public init(principal: Principal, configured: String?) {
        self.principal = principal
        if let configured {
            defaultAgent = configured
        } else if let agents = principal.agents, !agents.text.contains("*") {
            defaultAgent = agents.text
        } else {
            defaultAgent = nil
        }
    }
}
