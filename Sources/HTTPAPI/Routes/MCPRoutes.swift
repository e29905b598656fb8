import Foundation
import HTTPTypes
import Hummingbird
import MCP
import MCPServer
import MemoryService
import MemoryStore

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
            let bytes = Data(body.readableBytesView)
            if let problem = Self.malformedRequest(bytes) {
                return Self.response(.error(statusCode: 400, .invalidRequest(problem)))
            }
            let exchange = MCP.HTTPRequest(method: "POST", headers: headers, body: bytes, path: "/mcp")
            let caller = MCPCaller(principal: context.principal, configured: dependencies.mcpDefaultAgent)
            let server = await dependencies.mcp.server(for: caller)
            let transport = StatelessHTTPServerTransport(logger: context.logger)
            try await server.start(transport: transport)
            let answer = await transport.handleRequest(exchange)
            await server.stop()
            return Self.response(answer)
        }
    }

    static func response(_ answer: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(
            status: .init(code: answer.statusCode), headers: fields,
            body: answer.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody())
    }

    /// What makes a request or notification invalid JSON-RPC 2.0, which the transport would
    /// otherwise take as a notification (202) and drop: a `method` that is not a non-empty
    /// string, an `id` that is not a string or an integer a double holds exactly, `params` that are neither object nor
    /// array, `jsonrpc` other than "2.0". Anything else (not JSON, a response) the transport judges.
    static func malformedRequest(_ bytes: Data) -> String? {
        guard case .object(let message)? = try? JSONValue.parse(bytes: bytes), let method = message["method"] else {
            return nil
        }
        guard message["jsonrpc"] == .string("2.0") else { return "jsonrpc must be \"2.0\"" }
        guard case .string(let name) = method, !name.isEmpty else { return "method must be a non-empty string" }
        switch message["id"] {
        case nil, .string?: break
        case .number(let id)? where id.rounded() == id && abs(id) <= 9_007_199_254_740_991: break
        default: return "id must be a string or an integer within ±(2^53−1)"
        }
        switch message["params"] {
        case nil, .object?, .array?: return nil
        default: return "params must be an object or an array"
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
