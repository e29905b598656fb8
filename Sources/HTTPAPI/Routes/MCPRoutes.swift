import Foundation
import HTTPTypes
import Hummingbird
import MCP
import MCPServer
import MemoryService

extension APIHandlers {
    /// MCP over streamable HTTP, in its stateless form: each POST is answered with its JSON-RPC
    /// response by a server made for that request's key, so requests of different callers (and
    /// equal JSON-RPC ids) never meet. GET (a server-to-client stream) is 405, as the
    /// specification allows for a server that sends nothing unasked.
    func addMCPRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/mcp") { request, context in
            let body = try await JSONBody.collect(request, limit: maxBody)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            // The transport wants application/json named; `*/*`, `application/*` or no Accept at
            // all (RFC 9110) accept it too, and curl and most HTTP libraries send `*/*`.
            if Self.acceptsJSON(request.headers[.accept]) { headers["accept"] = "application/json" }
            let exchange = MCP.HTTPRequest(method: "POST", headers: headers, body: Data(body.readableBytesView), path: "/mcp")
            let caller = MCPCaller(principal: context.principal, configured: dependencies.mcpDefaultAgent)
            let server = await dependencies.mcp.server(for: caller)
            let transport = StatelessHTTPServerTransport(logger: context.logger)
            try await server.start(transport: transport)
            let answer = await transport.handleRequest(exchange)
            await server.stop()
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let name = HTTPField.Name(name) { fields[name] = value }
            }
            return Response(
                status: .init(code: answer.statusCode), headers: fields,
                body: answer.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody())
        }
    }

    /// Whether an Accept header admits application/json.
    static func acceptsJSON(_ accept: String?) -> Bool {
        guard let accept else { return true }
        return accept.split(separator: ",").contains { range in
            let type = range.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            return ["*/*", "application/*", "application/json"].contains(type)
        }
    }
}
