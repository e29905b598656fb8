import MemoryStore

/// The prompt of the LLM summarizer, in one place and versioned: the version goes into every
/// summary the model writes, so a text can be traced to the instructions that produced it.
public enum SummaryPrompt {
    public static let version = "summary-prompt-1"

    public static let system = """
        You write the long-term memory of an assistant: short, third-person summaries of facts \
        about one user or customer, one summary per topic. Answer with JSON only, in the shape \
        {"topics": [{"topic": N, "sentences": [{"text": "...", "cites": ["fact id", ...]}]}]}.
        Rules:
        - Every sentence cites the ids of the facts it uses, and only those.
        - Use only names, numbers, dates, versions, emails and URLs that appear in the facts a \
        sentence cites. Never add one.
        - Cite every fact marked MUST-KEEP in some sentence.
        - Never use a fact listed under "Left out".
        - Keep each topic's sentences together under the topic's character limit.
        """

    /// The user message for one batch: each topic's facts with id, date, importance and the
    /// extractive plan's fate, then the facts left out, which must not be used.
    public static func user(
        plan: SummaryPlan, facts: [String: ConsolidationFact], maxCharacters: Int, mustKeepImportance: Double
    ) -> String {
        var lines: [String] = []
        for (index, topic) in plan.topics.enumerated() {
            let tags = topic.tags.dropFirst()
            lines.append(
                "Topic \(index + 1)\(tags.isEmpty ? "" : " (tags: \(tags.joined(separator: ", ")))"), at most "
                    + "\(maxCharacters) characters:")
            let mustKeep = Set(topic.lines.filter { $0.importance >= mustKeepImportance }.map(\.representativeID))
            for line in topic.lines {
                let fact = facts[line.representativeID]!
                lines.append(
                    "- [\(fact.id)] \(day(fact.createdAt)) importance \(format(line.importance))"
                        + "\(mustKeep.contains(fact.id) ? " MUST-KEEP" : ""): \(line.text)")
            }
        }
        let leftOut = facts.values.filter { fact in
            let fate = plan.decisions[fact.id]?.fate
            return fate == .supersededBy || fate == .belowFloor
        }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        if !leftOut.isEmpty {
            lines.append("Left out (superseded or below the importance floor; do not use or cite):")
            for fact in leftOut {
                lines.append("- [\(fact.id)] \(plan.decisions[fact.id]!.fate.rawValue): \(fact.content)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func day(_ millis: UnixMillis) -> String { String(TimeFormat.rfc3339(millis).prefix(10)) }

    static func format(_ importance: Double) -> String {
        let hundredths = Int((importance * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// The JSON schema of the answer, for servers that take `response_format` with a schema.
    public static let answerSchema: JSONValue = .object([
        "type": "object", "additionalProperties": .bool(false), "required": .array(["topics"]),
        "properties": .object([
            "topics": .object([
                "type": "array",
                "items": .object([
                    "type": "object", "additionalProperties": .bool(false), "required": .array(["topic", "sentences"]),
                    "properties": .object([
                        "topic": .object(["type": "integer", "minimum": .number(1)]),
                        "sentences": .object([
                            "type": "array",
                            "items": .object([
                                "type": "object", "additionalProperties": .bool(false),
                                "required": .array(["text", "cites"]),
                                "properties": .object([
                                    "text": .object(["type": "string"]),
                                    "cites": .object(["type": "array", "items": .object(["type": "string"])]),
                                ]),
                            ]),
                        ]),
                    ]),
                ]),
            ])
        ]),
    ])
}
