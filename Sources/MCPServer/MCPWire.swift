import Foundation
import MCP
import MemoryService
import MemoryStore

/// Between MCP's `Value` and the service's JSON: through JSON text, so that numbers, strings
/// and nesting are read by the same rules as an HTTP body.
enum MCPWire {
    static func body(_ arguments: [String: Value]?, defaultAgent: String?) throws -> JSONBody {
        withDefaultAgent(try JSONBody.parse(try JSONEncoder().encode(arguments ?? [:])), defaultAgent)
    }

    /// The body with `agent_id` set to the session's default agent when it names none.
    static func withDefaultAgent(_ body: JSONBody, _ defaultAgent: String?) -> JSONBody {
        guard body.fields["agent_id"] == nil, let defaultAgent else { return body }
        var fields = body.fields
        fields["agent_id"] = .string(defaultAgent)
        return JSONBody(fields)
    }

    static func value(_ json: JSONValue) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(json.jsonText().utf8))
    }

    /// The service's error as an MCP error: a bad argument is "invalid params" (-32602), a
    /// missing record MCP's "not found" (-32002), anything else a server error (-32000); the
    /// message keeps the API's code and text.
    static func error(_ error: any Error) -> any Error {
        guard let known = APIError.from(error) else { return error }
        switch known.status.code {
        case 400, 413: return MCPError.invalidParams(known.message)
        case 404: return MCPError.serverError(code: -32_002, message: "\(known.code): \(known.message)")
        default: return MCPError.serverError(code: -32_000, message: "\(known.code): \(known.message)")
        }
    }
}
