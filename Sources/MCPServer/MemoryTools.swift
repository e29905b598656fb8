import MCP

/// The tools memkeep offers over MCP, with schemas a model can act on. Names and rules are
/// the HTTP API's; `agent_id` may be left out when the session has a default agent.
enum MemoryTool: String, CaseIterable, Sendable {
    case remember, recall
    case getContext = "get_context"
    case startSession = "start_session"
    case endSession = "end_session"
    case forget
    case listSessions = "list_sessions"

    static let agentID: Value = [
        "type": "string",
        "description": "The agent whose memory this is, e.g. support-customer-9182. Optional when the server has a default agent.",
    ]
    static let sessionID: Value = [
        "type": "string", "description": "The current session's id (from start_session); the call counts as its activity.",
    ]
    static let importance: Value = ["type": "number", "minimum": 0, "maximum": 1]
    static let tags: Value = ["type": "array", "items": ["type": "string"], "maxItems": 32]

    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
    }

    var tool: Tool {
        switch self {
        case .remember:
            Tool(
                name: rawValue,
                description: """
                    Store one distilled fact about the user or their project for later sessions (a stack, a decision, \
                    a constraint, an open task). Write it as one self-contained sentence; rate how much it matters \
                    with importance (0.9 for facts that must survive, 0.3 for small talk). To replace an older fact, \
                    name it in supersedes.
                    """,
                inputSchema: Self.schema(
                    [
                        "agent_id": Self.agentID, "content": ["type": "string", "description": "The fact, one sentence."],
                        "importance": Self.importance, "session_id": Self.sessionID, "tags": Self.tags,
                        "memory_type": ["type": "string", "enum": ["episodic", "semantic", "procedural", "working"]],
                        "ttl_seconds": ["type": "integer", "minimum": 1, "description": "Forget it after this many seconds."],
                        "supersedes": [
                            "type": "array", "items": ["type": "string"], "description": "Ids of memories this fact replaces.",
                        ],
                        "metadata": ["type": "object"],
                    ], required: ["content"]))
        case .recall:
            Tool(
                name: rawValue,
                description: """
                    Find remembered facts relevant to a question, best first (semantic and full-text). Superseded and \
                    consolidated facts are left out unless asked for.
                    """,
                inputSchema: Self.schema([
                    "agent_id": Self.agentID, "query": ["type": "string", "description": "What you want to know."],
                    "top_k": ["type": "integer", "minimum": 1, "maximum": 100, "default": 5],
                    "min_importance": Self.importance, "tags": Self.tags, "session_id": Self.sessionID,
                    "include_archived": ["type": "boolean"], "include_superseded": ["type": "boolean"],
                    "include_summaries": ["type": "boolean", "description": "Consolidation summaries too."],
                ]),
                annotations: .init(readOnlyHint: true))
        case .getContext:
            Tool(
                name: rawValue,
                description: """
                    The compact context to start a session with: the current facts, the history of earlier sessions \
                    (newest first) and the open tasks, within a token budget. Call it once at the start of a conversation.
                    """,
                inputSchema: Self.schema([
                    "agent_id": Self.agentID,
                    "query": ["type": "string", "description": "Optional topic to order the facts by."],
                    "budget_tokens": ["type": "integer", "minimum": 1, "maximum": 32_768, "default": 400],
                    "min_importance": Self.importance,
                    "include": [
                        "type": "array", "items": ["type": "string", "enum": ["facts", "summaries", "open_tasks"]],
                    ],
                    "session_id": Self.sessionID,
                ]),
                annotations: .init(readOnlyHint: true))
        case .startSession:
            Tool(
                name: rawValue,
                description: "Start a conversation session; memories stored with its id are grouped and later consolidated.",
                inputSchema: Self.schema([
                    "agent_id": Self.agentID,
                    "idle_timeout_secs": [
                        "type": "integer", "minimum": 0, "description": "End it after this long without activity; 0: never.",
                    ],
                    "metadata": ["type": "object"],
                ]))
        case .endSession:
            Tool(
                name: rawValue,
                description: "End a session at the end of a conversation, with an optional one-paragraph summary.",
                inputSchema: Self.schema(
                    ["session_id": ["type": "string"], "summary": ["type": "string"]], required: ["session_id"]))
        case .forget:
            Tool(
                name: rawValue,
                description: "Delete memories by id, for good (for a fact that was wrong or that the user asked to forget).",
                inputSchema: Self.schema(
                    [
                        "agent_id": Self.agentID,
                        "memory_ids": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 1000],
                    ], required: ["memory_ids"]),
                annotations: .init(destructiveHint: true))
        case .listSessions:
            Tool(
                name: rawValue,
                description: "The agent's sessions, newest first.",
                inputSchema: Self.schema([
                    "agent_id": Self.agentID, "active_only": ["type": "boolean"],
                    "limit": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 100],
                ]),
                annotations: .init(readOnlyHint: true))
        }
    }
}
