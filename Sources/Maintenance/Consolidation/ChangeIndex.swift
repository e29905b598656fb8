import MemoryStore

/// An agent's change statements ("migrated … from X to Y"), indexed by the first word of what
/// each says no longer holds, so that finding a fact's successor looks only at statements that
/// can name it. Built once per agent per run: a busy agent has thousands.
public struct ChangeIndex: Sendable {
    struct Change: Sendable {
        var id: String
        var createdAt: UnixMillis
        var changes: [Supersession.Change]
    }

    var byFirstWord: [String: [Change]] = [:]
    var ids: Set<String> = []

    /// `facts` that state a change count when they are not superseded themselves and are at or
    /// above the importance floor (noise does not retire facts).
    public init(_ facts: [ConsolidationFact] = [], minImportance: Double) {
        add(facts.lazy.filter { $0.supersededBy == nil && $0.importance >= minImportance }.map {
            (id: $0.id, createdAt: $0.createdAt, changes: Supersession.supersededTerms(in: $0.content))
        })
    }

    mutating func add<Statements: Sequence<(id: String, createdAt: UnixMillis, changes: [Supersession.Change])>>(
        _ statements: Statements
    ) {
        for statement in statements where !statement.changes.isEmpty && ids.insert(statement.id).inserted {
            let change = Change(id: statement.id, createdAt: statement.createdAt, changes: statement.changes)
            for first in Set(statement.changes.map { $0.named[0] }) { byFirstWord[first, default: []].append(change) }
        }
    }

    /// The earliest statement after the fact (by time, then id) that makes it stale
    /// (`Supersession.supersedes`).
    func successor(of id: String, createdAt: UnixMillis, words: Set<String>, own: [Supersession.Change]) -> String? {
        var best: Change?
        for word in words {
            for change in byFirstWord[word] ?? [] where (change.createdAt, change.id) > (createdAt, id) {
                if let current = best, (current.createdAt, current.id) <= (change.createdAt, change.id) { continue }
                if Supersession.supersedes(changes: change.changes, tokens: words, own: own) { best = change }
            }
        }
        return best?.id
    }
}
