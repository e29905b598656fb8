import MemoryStore

/// What a chat model answers for one batch: per topic, sentences that each cite the fact ids
/// they rest on. Parsed leniently: models wrap JSON in code fences or put prose before it.
public struct LLMAnswer: Sendable, Equatable {
    public struct Sentence: Sendable, Equatable {
        public var text: String
        public var cites: [String]

        public init(text: String, cites: [String]) {
            self.text = text
            self.cites = cites
        }
    }

    /// Sentences by topic number (1-based, as the prompt numbers them).
    public var topics: [Int: [Sentence]]

    public init(topics: [Int: [Sentence]]) {
        self.topics = topics
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case noJSON
        case malformed(String)

        public var description: String {
            switch self {
            case .noJSON: "the answer holds no JSON object"
            case .malformed(let reason): "the answer's JSON is not the asked shape: \(reason)"
            }
        }
    }

    /// `{"topics": [{"topic": 1, "sentences": [{"text": "…", "cites": ["id", …]}, …]}, …]}`,
    /// found inside code fences or after leading prose: the outermost braces are taken.
    public static func parse(_ content: String) throws(ParseError) -> LLMAnswer {
        guard let start = content.firstIndex(of: "{"), let end = content.lastIndex(of: "}"), start < end else {
            throw .noJSON
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(String(content[start...end]))
        } catch {
            throw .malformed("not valid JSON")
        }
        guard case .array(let topicValues)? = value.objectValue?["topics"] else { throw .malformed("no \"topics\" array") }
        var topics: [Int: [Sentence]] = [:]
        for (index, topicValue) in topicValues.enumerated() {
            guard case .number(let number)? = topicValue.objectValue?["topic"], number.rounded() == number, number >= 1 else {
                throw .malformed("topics[\(index)].topic must be a topic number")
            }
            guard case .array(let sentenceValues)? = topicValue.objectValue?["sentences"] else {
                throw .malformed("topics[\(index)].sentences must be an array")
            }
            topics[Int(number), default: []] += try sentenceValues.enumerated().map { (position, sentence) throws(ParseError) in
                guard case .string(let text)? = sentence.objectValue?["text"] else {
                    throw .malformed("topics[\(index)].sentences[\(position)].text must be a string")
                }
                guard case .array(let citeValues)? = sentence.objectValue?["cites"] else {
                    throw .malformed("topics[\(index)].sentences[\(position)].cites must be an array of ids")
                }
                let cites = citeValues.compactMap { if case .string(let id) = $0 { id } else { nil } }
                guard cites.count == citeValues.count else {
                    throw .malformed("topics[\(index)].sentences[\(position)].cites must be an array of ids")
                }
                return Sentence(text: text, cites: cites)
            }
        }
        return LLMAnswer(topics: topics)
    }
}
