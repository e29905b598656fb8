/// An agent-id pattern of an API key: `*` matches any run of characters, everything else itself.
public struct AgentPattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    /// The same pattern for SQLite's GLOB, where `?` and `[` are special too: each becomes a
    /// one-character class that matches only itself.
    public var glob: String {
        text.map { character in
            switch character {
            case "?": "[?]"
            case "[": "[[]"
            default: String(character)
            }
        }.joined()
    }

    /// The same pattern for PostgreSQL's LIKE (escape character `\`): `*` is `%`, and `%`,
    /// `_` and `\` match only themselves.
    public var likePattern: String {
        text.map { character in
            switch character {
            case "*": "%"
            case "%", "_", "\\": "\\" + String(character)
            default: String(character)
            }
        }.joined()
    }

    public func matches(_ agentID: String) -> Bool {
        Self.match(Array(text.utf8)[...], Array(agentID.utf8)[...])
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = pattern.dropFirst()
            var suffix = text
            while true {
                if match(rest, suffix) { return true }
                guard !suffix.isEmpty else { return false }
                suffix = suffix.dropFirst()
            }
        }
        guard let head = text.first, head == first else { return false }
        return match(pattern.dropFirst(), text.dropFirst())
    }
}

