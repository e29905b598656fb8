import MCP
import MemoryService
import MemoryStore

/// The resources: an agent's context block and a memory by id.
enum MemoryResource: Equatable {
    case context(String)
    case memory(String)

    static let templates = [
        Resource.Template(
            uriTemplate: "memkeep://agents/{id}/context", name: "agent context",
            description: "The session-start context block of an agent.", mimeType: "text/plain"),
        Resource.Template(
            uriTemplate: "memkeep://memories/{id}", name: "memory", description: "One memory, as JSON.",
            mimeType: "application/json"),
    ]

    var uri: String {
        switch self {
        case .context(let agent): "memkeep://agents/\(agent)/context"
        case .memory(let id): "memkeep://memories/\(id)"
        }
    }

    init(uri: String) throws {
        let prefix = "memkeep://"
        let parts = uri.hasPrefix(prefix) ? uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false) : []
        switch (parts.first, parts.count) {
        case ("agents"?, 3) where parts[2] == "context" && !parts[1].isEmpty:
            self = .context(String(parts[1]))
        case ("memories"?, 2) where !parts[1].isEmpty:
            self = .memory(String(parts[1]))
        default:
            throw APIError.invalid(
                "uri", "\(uri) is not a memkeep resource: memkeep://agents/{id}/context or memkeep://memories/{id}")
        }
    }
}
