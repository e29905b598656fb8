import MCP

/// `session_start`: the context block as a message, ready to put before a conversation.
enum SessionStartPrompt {
    static let prompt = Prompt(
        name: "session_start",
        description: "What you remember about this user from earlier sessions, within a token budget.",
        arguments: [
            .init(name: "agent_id", description: "The agent; optional when the server has a default agent."),
            .init(name: "query", description: "Optional topic of this conversation, to order the facts by."),
            .init(name: "budget_tokens", description: "The budget, 400 unless given."),
        ])

    static func result(context: String) -> GetPrompt.Result {
        let text =
            context.isEmpty
            ? "You have no memories of this user yet."
            : "What you remember about this user from earlier sessions:\n\n\(context)"
        return GetPrompt.Result(
            description: "The session-start context", messages: [.user(.text(text: text))])
    }
}
