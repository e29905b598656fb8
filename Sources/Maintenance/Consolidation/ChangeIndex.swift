import MemoryStore

/// An agent's change statements ("migrated … from X to Y"), indexed by the first word of what
/// each says no longer holds, so that finding a fact's successor looks only at statements that
/// can name it. Built once per agent per run: a busy agent has thousands.
public struct ChangeIndex: Sendable {
    struct Change: Sendable {
        var id: String
        var createdAt: UnixMillis
        var terms: [[String]]
    }

    var byFirstWord: [String: [Change]] = [:]
    var ids: Set<String> = []

    /// `facts` that state a change count when they are not superseded themselves and are at or
    /// above the importance floor (noise does not retire facts).
    public init(_ facts: [ConsolidationFact] = [], minImportance: Double) {
        add(facts.lazy.filter { $0.supersededBy == nil && $0.importance >= minImportance }.map {
            (id: $0.id, createdAt: $0.createdAt, terms: Supersession.supersededTerms(in: $0.content))
        })
    }

    mutating func add<Statements: Sequence<(id: String, createdAt: UnixMillis, terms: [[String]])>>(_ statements: Statements) {
        for statement in statements where !statement.terms.isEmpty && ids.insert(statement.id).inserted {
            let change = Change(id: statement.id, createdAt: statement.createdAt, terms: statement.terms)
            for first in Set(statement.terms.map { $0[0] }) { byFirstWord[first, default: []].append(change) }
        }
    }

    /// The earliest statement after the fact (by time, then id) that names every word of one of
    /// its terms among the fact's words, unless the fact states that same change itself.
    func successor(of id: String, createdAt: UnixMillis, words: Set<String>, ownTerms: [[String]]) -> String? {
        var best: Change?
        for word in words {
            for change in byFirstWord[word] ?? [] where (change.createdAt, change.id) > (createdAt, id) {
                if let current = best, (current.createdAt, current.id) <= (change.createdAt, change.id) { continue }
                if Supersession.supersedes(terms: change.terms, tokens: words, ownTerms: ownTerms) { best = change }
            }
        }
        return best?.id
    }
}
