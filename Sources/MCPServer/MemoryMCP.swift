import Foundation
import Logging
import MCP
import MemoryService
import MemoryStore

/// memkeep as an MCP memory server: tools, resources and the `session_start` prompt over
/// MemoryService, so they validate, authorize and answer as the HTTP API does.
public struct MemoryMCP: Sendable {
    public static let name = "memkeep"
    public var service: MemoryService
    public var version: String
    public var logger: Logger

    public init(service: MemoryService, version: String, logger: Logger) {
        self.service = service
        self.version = version
        self.logger = logger
    }

    /// A server whose handlers act for `caller`.
    public func server(for caller: MCPCaller) async -> Server {
        let server = Server(
            name: Self.name, version: version,
            instructions: """
                Long-term memory across conversations. At the start of a conversation call get_context (or use \
                the session_start prompt) and start_session; store distilled facts with remember; end_session at the end.
                """,
            capabilities: .init(prompts: .init(), resources: .init(), tools: .init()))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: MemoryTool.allCases.map(\.tool))
        }
        await server.withMethodHandler(CallTool.self) { params in
            try await call(params, caller: caller)
        }
        await server.withMethodHandler(ListResources.self) { _ in
            ListResources.Result(
                resources: caller.defaultAgent.map { agent in
                    [
                        Resource(
                            name: "context of \(agent)", uri: MemoryResource.context(agent).uri,
                            description: "The session-start context block of \(agent).", mimeType: "text/plain")
                    ]
                } ?? [])
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            ListResourceTemplates.Result(templates: MemoryResource.templates)
        }
        await server.withMethodHandler(ReadResource.self) { params in
            try await read(params.uri, caller: caller)
        }
        await server.withMethodHandler(ListPrompts.self) { _ in
            ListPrompts.Result(prompts: [SessionStartPrompt.prompt])
        }
        await server.withMethodHandler(GetPrompt.self) { params in
            guard params.name == SessionStartPrompt.prompt.name else {
                throw MCPError.invalidParams("unknown prompt \(params.name); the prompt is \(SessionStartPrompt.prompt.name)")
            }
            return try await sessionStart(params.arguments ?? [:], caller: caller)
        }
        return server
    }

    func call(_ params: CallTool.Parameters, caller: MCPCaller) async throws -> CallTool.Result {
        guard let tool = MemoryTool(rawValue: params.name) else {
            let names = MemoryTool.allCases.map(\.rawValue).joined(separator: ", ")
            throw MCPError.invalidParams("unknown tool \(params.name); the tools are \(names)")
        }
        logger.debug("mcp tool call", metadata: ["mcp.tool": "\(tool.rawValue)"])
        do {
            let body = try MCPWire.body(params.arguments, defaultAgent: caller.defaultAgent)
            let answer = try await run(tool, body, caller: caller)
            var content: [Tool.Content] = []
            if tool == .getContext, case .string(let text)? = answer.objectValue?["context"] {
                content.append(.text(text: text, annotations: nil, _meta: nil))
            }
            content.append(.text(text: answer.jsonText(), annotations: nil, _meta: nil))
            let structured: Value? = try MCPWire.value(answer)
            return CallTool.Result(content: content, structuredContent: structured)
        } catch {
            throw MCPWire.error(error)
        }
    }

    func run(_ tool: MemoryTool, _ body: JSONBody, caller: MCPCaller) async throws -> JSONValue {
        let principal = caller.principal
        switch tool {
        case .remember:
            return try await service.store(body, principal: principal)
        case .recall:
            return try await service.recall(body, principal: principal, logger: logger)
        case .getContext:
            return try await service.context(agent: try body.string("agent_id"), body, principal: principal, logger: logger)
        case .startSession:
            return .object(["session": service.session(try await service.startSession(body, principal: principal), memoryCount: 0)])
        case .endSession:
            let session = try await service.visibleSession(try body.string("session_id"), principal: principal, scope: .write)
            return try await service.endSession(session, body)
        case .forget:
            return try await service.forget(body, principal: principal)
        case .listSessions:
            let limit = Int(try body.optionalInt("limit") ?? 100)
            guard (1...1000).contains(limit) else { throw APIError.invalid("limit", "must be an integer from 1 to 1000") }
            let sessions = try await service.sessionList(
                agent: try body.optionalString("agent_id"), openOnly: try body.optionalBool("active_only") ?? false,
                limit: limit, offset: 0, principal: principal)
            return .object(["sessions": sessions])
        }
    }

    func read(_ uri: String, caller: MCPCaller) async throws -> ReadResource.Result {
        do {
            switch try MemoryResource(uri: uri) {
            case .context(let agent):
                let answer = try await service.context(agent: agent, JSONBody([:]), principal: caller.principal, logger: logger)
                guard case .string(let text)? = answer.objectValue?["context"] else { return .init(contents: []) }
                return .init(contents: [.text(text, uri: uri, mimeType: "text/plain")])
            case .memory(let id):
                let memory = try await service.visibleMemory(id, principal: caller.principal, scope: .read)
                return .init(contents: [.text(Representation.memory(memory).jsonText(), uri: uri, mimeType: "application/json")])
            }
        } catch {
            throw MCPWire.error(error)
        }
    }

    func sessionStart(_ arguments: [String: String], caller: MCPCaller) async throws -> GetPrompt.Result {
        var fields: [String: JSONValue] = [:]
        for (name, value) in arguments {
            if name == "budget_tokens" {
                guard let budget = Int(value) else { throw MCPError.invalidParams("budget_tokens must be an integer") }
                fields[name] = .number(Double(budget))
            } else {
                fields[name] = .string(value)
            }
        }
        do {
            let body = MCPWire.withDefaultAgent(JSONBody(fields), caller.defaultAgent)
            let answer = try await service.context(
                agent: try body.string("agent_id"), body, principal: caller.principal, logger: logger)
            guard case .string(let text)? = answer.objectValue?["context"] else { return .init(messages: []) }
            return SessionStartPrompt.result(context: text)
        } catch {
            throw MCPWire.error(error)
        }
    }
}
