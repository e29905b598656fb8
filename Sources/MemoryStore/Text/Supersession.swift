/// Change statements: a later fact that says "migrated the database from X to Y" makes every
/// earlier fact that mentions X stale. Patterns work anywhere within one sentence, never across
/// sentences, and never on similarity alone. An explicit change verb ("migrated", "replaced",
/// "retired", "no longer uses") names X and is enough; a change said by its structure alone, any
/// verb ("rewrote the services from Python to Go", "Python is no longer our backend language"),
/// also needs the fact to share a word of what the statement is about ("services", "backend"),
/// so that "flew from Paris to Rome" retires nothing.
public enum Supersession {
    /// What one change statement says no longer holds.
    public struct Change: Sendable, Hashable {
        /// The naming words of X: a stale fact names every one.
        public var named: [String]
        /// What the change is about: a stale fact also shares one of these words (empty: naming
        /// X is enough).
        public var about: [String]

        public init(named: [String], about: [String] = []) {
            self.named = named
            self.about = about
        }
    }

    static let changeVerbs: Set<String> = [
        "switched", "moved", "migrated", "changed", "upgraded", "downgraded", "transitioned", "went", "swapped",
        "converted", "ported",
    ]
    static let retireWords: Set<String> = [
        "retired", "removed", "dropped", "deprecated", "decommissioned", "discontinued", "sunset", "sunsetted",
        "cancelled", "canceled",
    ]
    static let auxiliaries: Set<String> = ["was", "were", "is", "are", "been", "got", "get", "gets"]
    static let adverbs: Set<String> = ["now", "finally", "officially", "fully", "completely", "just", "since"]
    static let noLongerVerbs: Set<String> = [
        "uses", "use", "using", "runs", "run", "running", "has", "have", "needs", "need", "wants", "want", "works",
        "supports", "support", "pays", "pay", "relies", "rely", "subscribes", "hosts", "host", "stores", "store",
    ]
    static let noLongerPrepositions: Set<String> = ["on", "with", "in", "at"]
    /// A sentence with "instead of" states a change only with one of these before it.
    static let insteadMarkers: Set<String> = [
        "now", "uses", "use", "using", "runs", "prefers", "chose", "picked", "switched", "moved", "went",
    ]
    /// Words that end the phrase naming what changed.
    static let phraseEnd: Set<String> = [
        "to", "into", "with", "by", "for", "because", "and", "but", "in", "on", "at", "after", "since", "as", "so",
        "last", "this", "yesterday", "today", "now", "instead", "was", "were", "is", "are", "has", "have", "been",
    ]
    /// Left out of a phrase: they describe the old thing rather than name it.
    static let phraseNoise: Set<String> = ["old", "previous", "legacy", "former", "existing", "current", "original"]

    /// Every word a change statement needs: the store finds the candidates of an agent by them
    /// in its full-text index.
    public static var triggerWords: [String] {
        (changeVerbs.union(retireWords).union(["replaced", "longer", "instead", "from"])).sorted()
    }

    /// What each change statement of `text` says no longer holds.
    public static func supersededTerms(in text: String) -> [Change] {
        FactText.sentences(text).flatMap(terms(sentence:))
    }

    public static func terms(sentence s: [String]) -> [Change] {
        var changes: [Change] = []
        var explicitFrom = false
        for (i, word) in s.enumerated() {
            var change: Change?
            if changeVerbs.contains(word), let from = s[(i + 1)...].firstIndex(of: "from") {
                change = Change(named: phrase(s, after: from))
                explicitFrom = true
            } else if word == "replaced" {
                let next = i + 1 < s.count ? s[i + 1] : ""
                change = Change(
                    named: next == "by" || next == "with" || isPassive(s, verb: i)
                        ? phrase(s, before: auxiliaryStart(s, verb: i)) : phrase(s, after: i))
            } else if retireWords.contains(word), isPassive(s, verb: i) {
                change = Change(named: phrase(s, before: auxiliaryStart(s, verb: i)))
            } else if word == "longer", i > 0, s[i - 1] == "no", i + 1 < s.count {
                if noLongerVerbs.contains(s[i + 1]) || noLongerPrepositions.contains(s[i + 1]) {
                    change = Change(named: phrase(s, after: i + 1))
                } else if i > 1, auxiliaries.contains(s[i - 2]) {
                    // "Python is no longer our backend language": X before, what it was after.
                    change = Change(named: phrase(s, before: i - 2), about: naming(s[(i + 1)...]))
                }
            } else if word == "instead", i + 1 < s.count, s[i + 1] == "of", s[..<i].contains(where: insteadMarkers.contains) {
                change = Change(named: phrase(s, after: i + 1))
            } else if word == "from", !explicitFrom, s[(i + 1)...].contains(where: { $0 == "to" || $0 == "into" }) {
                // "… from X to Y" with any verb: about what comes before it, which must hold more
                // than the verb alone ("rewrote the services", not "flew").
                let about = naming(s[..<i])
                if about.count >= 2 { change = Change(named: phrase(s, after: i), about: about) }
            }
            if let change, !change.named.isEmpty { changes.append(change) }
        }
        return changes
    }

    /// "… was retired", "… has been replaced", "… was now dropped": an auxiliary right before the
    /// verb (adverbs aside), and no negation.
    static func isPassive(_ s: [String], verb: Int) -> Bool {
        var index = verb - 1
        while index >= 0, adverbs.contains(s[index]) { index -= 1 }
        return index >= 0 && auxiliaries.contains(s[index])
    }

    /// The index of the auxiliary chain before a passive verb ("has been", "was").
    static func auxiliaryStart(_ s: [String], verb: Int) -> Int {
        var index = verb - 1
        while index >= 0, adverbs.contains(s[index]) || auxiliaries.contains(s[index]) || s[index] == "has"
            || s[index] == "have" || s[index] == "had"
        {
            index -= 1
        }
        return index + 1
    }

    /// Up to four naming words after `index`, to the first word that ends a phrase.
    static func phrase(_ s: [String], after index: Int) -> [String] {
        naming(s[(index + 1)...].prefix { !phraseEnd.contains($0) }.prefix(4))
    }

    /// Up to four naming words before `index`, back to the first word that ends a phrase.
    static func phrase(_ s: [String], before index: Int) -> [String] {
        let words = s[..<index].reversed().prefix { !phraseEnd.contains($0) }.prefix(4)
        return naming(Array(words.reversed()))
    }

    static func naming<Words: Sequence<String>>(_ words: Words) -> [String] {
        words.filter { !FactText.stopwords.contains($0) && !phraseNoise.contains($0) }
    }

    /// Whether `changes` (of a later statement) make the fact `content` stale.
    public static func makesStale(_ changes: [Change], content: String) -> Bool {
        let sentences = FactText.sentences(content)
        return supersedes(changes: changes, tokens: Set(sentences.joined()), own: sentences.flatMap(terms(sentence:)))
    }

    /// The words a store searches its full-text index by for the facts `changes` may make
    /// stale: the first naming word of each (a stale fact holds every one).
    public static func searchWords(_ changes: [Change]) -> [String] {
        Array(Set(changes.map { $0.named[0].filter { $0 != "\"" && $0 != "'" } }.filter { !$0.isEmpty })).sorted()
    }

    /// Whether a statement of `changes` makes a fact with `tokens` stale: the fact names every
    /// word of one change's X, shares a word of what it is about (when it says), and does not
    /// state that same change itself.
    public static func supersedes(changes: [Change], tokens: Set<String>, own: [Change]) -> Bool {
        changes.contains { change in
            change.named.allSatisfy(tokens.contains)
                && (change.about.isEmpty || change.about.contains { tokens.contains($0) && !change.named.contains($0) })
                && !own.contains { $0.named == change.named }
        }
    }
}
