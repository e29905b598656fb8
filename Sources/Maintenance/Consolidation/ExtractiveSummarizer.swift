import Foundation
import MemoryStore

/// The default summarizer: no network, deterministic. It keeps facts, it does not write prose:
/// near-duplicates appear once, a fact superseded by a later "switched from X to Y" is left
/// out, decisions, open tasks, constraints and state changes come first, then by importance
/// and recency, within a fact and character cap.
public struct ExtractiveSummarizer: Summarizer {
    public let name = "extractive"
    public var maxFacts: Int
    public var maxCharacters: Int
    /// Token-set Jaccard similarity from which two facts count as the same.
    public var duplicateThreshold = 0.8

    public init(maxFacts: Int = 40, maxCharacters: Int = 4000) {
        self.maxFacts = maxFacts
        self.maxCharacters = maxCharacters
    }

    public func summarize(_ facts: [Memory]) async throws -> String {
        select(facts).map { "- " + $0.content.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: "\n")
    }

    struct Fact {
        var memory: Memory
        var tokens: [String]
        /// The content words, interned to integers for this summary: near-duplicate checks
        /// compare every pair, and integer sets hash far faster than string sets.
        var tokenSet: Set<Int>
        var importance: Double
        var priority: Int
    }

    /// The facts of the summary, in order.
    func select(_ memories: [Memory]) -> [Memory] {
        var interned: [String: Int] = [:]
        var facts = memories.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map { memory in
            let tokens = Self.tokens(memory.content)
            var tokenSet = Set<Int>()
            for token in tokens where !Self.stopwords.contains(token) {
                let next = interned.count
                tokenSet.insert(interned[token, default: next])
                if interned[token] == nil { interned[token] = next }
            }
            return Fact(
                memory: memory, tokens: tokens, tokenSet: tokenSet,
                importance: memory.importance, priority: Self.priority(tokens: tokens, type: memory.memoryType))
        }
        facts = dropSuperseded(facts)
        facts = dropNearDuplicates(facts)
        facts.sort {
            ($0.priority, -$0.importance, -$0.memory.createdAt, $0.memory.id)
                < ($1.priority, -$1.importance, -$1.memory.createdAt, $1.memory.id)
        }
        var kept: [Memory] = []
        var length = 0
        for fact in facts.prefix(maxFacts) {
            let added = fact.memory.content.count + 3
            if length + added > maxCharacters, !kept.isEmpty { break }
            kept.append(fact.memory)
            length += added
        }
        return kept
    }

    /// A later fact that says "moved from X to Y" (or "replaced X with Y") makes every earlier
    /// fact that mentions X stale; the later fact itself carries the history.
    func dropSuperseded(_ facts: [Fact]) -> [Fact] {
        var stale = Set<Int>()
        for (index, fact) in facts.enumerated() {
            guard let old = Self.supersededTerm(fact.tokens), !old.isEmpty else { continue }
            for earlier in 0..<index where old.allSatisfy(facts[earlier].tokens.contains) {
                stale.insert(earlier)
            }
        }
        return facts.enumerated().filter { !stale.contains($0.offset) }.map(\.element)
    }

    /// Keeps the newest of each group of near-duplicates, with the group's highest importance.
    func dropNearDuplicates(_ facts: [Fact]) -> [Fact] {
        var kept: [Fact] = []
        for fact in facts.reversed() {
            if let index = kept.firstIndex(where: { Self.similarity($0.tokenSet, fact.tokenSet) >= duplicateThreshold }) {
                kept[index].importance = max(kept[index].importance, fact.importance)
                kept[index].priority = min(kept[index].priority, fact.priority)
            } else {
                kept.append(fact)
            }
        }
        return kept.reversed()
    }

    /// Jaccard similarity, counted without building the intersection or union sets.
    static func similarity<Token: Hashable>(_ a: Set<Token>, _ b: Set<Token>) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var common = 0
        for token in small where large.contains(token) { common += 1 }
        return Double(common) / Double(a.count + b.count - common)
    }

    static let changeVerbs: Set<String> = [
        "switched", "moved", "migrated", "changed", "upgraded", "downgraded", "transitioned", "went", "swapped",
        "converted", "ported",
    ]
    static let stopTerm: Set<String> = ["to", "with", "for", "in", "on", "because", "and"]

    /// The tokens of X in "… switched from X to Y …" or "… replaced X with Y …".
    static func supersededTerm(_ tokens: [String]) -> [String]? {
        for (index, token) in tokens.enumerated() {
            var start: Int?
            if changeVerbs.contains(token) {
                if let from = tokens[(index + 1)...].prefix(2).firstIndex(of: "from") { start = from + 1 }
            } else if token == "replaced" {
                start = index + 1
            }
            guard let start, start < tokens.count else { continue }
            let term = tokens[start...].prefix { !stopTerm.contains($0) }.prefix(4)
            let meaningful = term.filter { !stopwords.contains($0) }
            if !meaningful.isEmpty { return Array(meaningful) }
        }
        return nil
    }

    static let priorityWords: Set<String> = [
        // decisions
        "decided", "decision", "chose", "chosen", "agreed", "settled", "picked", "going",
        // open tasks
        "todo", "next", "pending", "task", "tasks", "need", "needs", "blocked", "remaining", "follow",
        // constraints
        "constraint", "constraints", "must", "only", "cannot", "never", "limit", "budget", "requirement", "required",
        // state changes
        "switched", "moved", "migrated", "upgraded", "done", "completed", "finished", "launched", "deployed", "now",
    ]

    static func priority(tokens: [String], type: MemoryType) -> Int {
        type == .procedural || tokens.contains(where: priorityWords.contains) ? 0 : 1
    }

    static let stopwords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "we", "our", "us", "they", "their", "it", "its",
        "to", "of", "on", "in", "and", "or", "for", "with", "this", "that", "these", "those", "has", "have", "had",
        "at", "by", "as", "from", "so", "i", "you", "he", "she", "customer", "user",
    ]

    /// Lower-cased alphanumeric words; dots inside numbers ("14.2") are kept.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        let characters = Array(text.lowercased())
        for (index, character) in characters.enumerated() {
            let isDotInNumber = character == "." && !current.isEmpty && current.last!.isNumber
                && index + 1 < characters.count && characters[index + 1].isNumber
            if character.isLetter || character.isNumber || isDotInNumber {
                current.append(character)
            } else if !current.isEmpty {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }
}
