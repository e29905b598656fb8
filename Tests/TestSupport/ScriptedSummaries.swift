import Foundation
import MemoryStore

/// A stand-in for a chat model answering the summary prompt: it reads the facts of each topic
/// from the prompt and writes third-person prose citing them. Faithful by default; with a fault,
/// the fault goes into every topic where it can (`injected` says which), so a test knows what the
/// gate must catch.
public enum ScriptedSummaries {
    public enum Fault: String, CaseIterable, Sendable {
        case inventedNumber, inventedName, unknownCitation, staleCitation, droppedMustKeep, tooLong

        /// The gate's reason for refusing it.
        public var reason: String {
            switch self {
            case .inventedNumber, .inventedName: "unsupported_claim"
            case .unknownCitation: "unknown_citation"
            case .staleCitation: "stale_citation"
            case .droppedMustKeep: "missing_fact"
            case .tooLong: "too_long"
            }
        }
    }

    /// One topic of a prompt.
    public struct Topic: Sendable {
        public var number: Int
        public var maxCharacters: Int
        public var facts: [Fact] = []
    }

    public struct Fact: Sendable {
        public var id: String
        public var day: String
        public var mustKeep: Bool
        public var text: String
    }

    public struct Prompt: Sendable {
        public var topics: [Topic] = []
        /// Superseded or below-floor facts: id and text.
        public var leftOut: [(id: String, text: String)] = []
        public var factIDs: [String] { topics.flatMap { $0.facts.map(\.id) } + leftOut.map(\.id) }
    }

    public static func parse(_ prompt: String) -> Prompt {
        var parsed = Prompt()
        var inLeftOut = false
        for line in prompt.split(separator: "\n").map(String.init) {
            if line.hasPrefix("Topic "), let number = Int(line.dropFirst(6).prefix { $0.isNumber }) {
                let cap = line.components(separatedBy: "at most ").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 800
                parsed.topics.append(Topic(number: number, maxCharacters: cap))
            } else if line.hasPrefix("Left out") {
                inLeftOut = true
            } else if line.hasPrefix("- ["), let close = line.firstIndex(of: "]") {
                let id = String(line[line.index(line.startIndex, offsetBy: 3)..<close])
                let rest = line[line.index(after: close)...]
                guard let colon = rest.range(of: ": ") else { continue }
                let head = rest[..<colon.lowerBound]
                let text = String(rest[colon.upperBound...])
                if inLeftOut {
                    parsed.leftOut.append((id, text))
                } else if !parsed.topics.isEmpty {
                    parsed.topics[parsed.topics.count - 1].facts.append(Fact(
                        id: id, day: String(head.dropFirst().prefix(10)), mustKeep: head.hasSuffix("MUST-KEEP"), text: text))
                }
            }
        }
        return parsed
    }

    /// The answer's JSON and the topics the fault went into.
    public static func answer(to prompt: String, fault: Fault? = nil) -> (content: String, injected: [Int]) {
        let parsed = parse(prompt)
        var injected: [Int] = []
        let topics = parsed.topics.map { topic -> JSONValue in
            var sentences = faithful(topic)
            if let fault, inject(fault, into: &sentences, topic: topic, leftOut: parsed.leftOut) { injected.append(topic.number) }
            return .object([
                "topic": .number(Double(topic.number)),
                "sentences": .array(sentences.map { .object(["text": .string($0.text), "cites": .array($0.cites.map(JSONValue.string))]) }),
            ])
        }
        return (JSONValue.object(["topics": .array(topics)]).jsonText(), injected)
    }

    typealias Sentence = (text: String, cites: [String])

    static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ]

    /// One sentence per fact, dated ("In March 2026, the customer …"), shortened to the cap the
    /// way a model would: dates go first, then facts that need not be kept, newest last.
    static func faithful(_ topic: Topic) -> [Sentence] {
        func sentence(_ fact: Fact, dated: Bool) -> Sentence {
            var text = fact.text.trimmingCharacters(in: .whitespaces)
            if !".!?".contains(text.last ?? ".") { text += "." }
            guard dated, let month = Int(fact.day.dropFirst(5).prefix(2)), (1...12).contains(month) else {
                return (text, [fact.id])
            }
            let lowered = text.prefix(1).lowercased() + text.dropFirst()
            let first = text.split(separator: " ").first.map(String.init) ?? ""
            // A name or identifier keeps its capital.
            let keep = first.dropFirst().contains(where: \.isUppercase) || first.contains(where: \.isNumber)
            return ("In \(months[month - 1]) \(fact.day.prefix(4)), \(keep ? text : lowered)", [fact.id])
        }
        func length(_ sentences: [Sentence]) -> Int { sentences.map(\.text).joined(separator: " ").count }
        var sentences = topic.facts.map { sentence($0, dated: true) }
        if length(sentences) > topic.maxCharacters { sentences = topic.facts.map { sentence($0, dated: false) } }
        var facts = topic.facts
        while length(sentences) > topic.maxCharacters, let drop = facts.lastIndex(where: { !$0.mustKeep }) {
            facts.remove(at: drop)
            sentences = facts.map { sentence($0, dated: false) }
        }
        return sentences
    }

    static func inject(_ fault: Fault, into sentences: inout [Sentence], topic: Topic, leftOut: [(id: String, text: String)])
        -> Bool
    {
        guard let first = topic.facts.first?.id else { return false }
        switch fault {
        case .inventedNumber:
            sentences.append(("The account has 4711 open tickets.", [first]))
        case .inventedName:
            sentences.append(("They also evaluated Snowflake for analytics.", [first]))
        case .unknownCitation:
            sentences[0].cites.append("m-not-in-this-batch")
        case .staleCitation:
            guard let stale = leftOut.first else { return false }
            sentences.append((stale.text, [stale.id]))
        case .droppedMustKeep:
            let mustKeep = Set(topic.facts.filter(\.mustKeep).map(\.id))
            guard !mustKeep.isEmpty else { return false }
            sentences.removeAll { !mustKeep.isDisjoint(with: $0.cites) }
            if sentences.isEmpty { sentences = [("The history continues.", [])] }
        case .tooLong:
            let original = sentences
            while sentences.map(\.text).joined(separator: " ").count <= topic.maxCharacters { sentences += original }
        }
        return true
    }
}
