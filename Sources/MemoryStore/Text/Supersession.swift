/// Change statements: a later fact that says "migrated the database from X to Y" makes every
/// earlier fact that mentions X stale. Patterns work anywhere within one sentence, never across
/// sentences, and never on similarity alone.
public enum Supersession {
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
        (changeVerbs.union(retireWords).union(["replaced", "longer", "instead"])).sorted()
    }

    /// What each change statement of `text` says no longer holds: the naming words of X.
    public static func supersededTerms(in text: String) -> [[String]] {
        FactText.sentences(text).flatMap(terms(sentence:))
    }

    public static func terms(sentence s: [String]) -> [[String]] {
        var terms: [[String]] = []
        for (i, word) in s.enumerated() {
            var term: [String] = []
            if changeVerbs.contains(word), let from = s[(i + 1)...].firstIndex(of: "from") {
                term = phrase(s, after: from)
            } else if word == "replaced" {
                let next = i + 1 < s.count ? s[i + 1] : ""
                term = next == "by" || next == "with" || isPassive(s, verb: i) ? phrase(s, before: auxiliaryStart(s, verb: i)) : phrase(s, after: i)
            } else if retireWords.contains(word), isPassive(s, verb: i) {
                term = phrase(s, before: auxiliaryStart(s, verb: i))
            } else if word == "longer", i > 0, s[i - 1] == "no", i + 1 < s.count {
                if noLongerVerbs.contains(s[i + 1]) || noLongerPrepositions.contains(s[i + 1]) {
                    term = phrase(s, after: i + 1)
                }
            } else if word == "instead", i + 1 < s.count, s[i + 1] == "of", s[..<i].contains(where: insteadMarkers.contains) {
                term = phrase(s, after: i + 1)
            }
            if !term.isEmpty { terms.append(term) }
        }
        return terms
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

    /// Whether a statement of change whose terms are `terms` makes a fact with `tokens` stale:
    /// the fact names every word of one term, and does not state that same change itself.
    public static func supersedes(terms: [[String]], tokens: Set<String>, ownTerms: [[String]]) -> Bool {
        terms.contains { term in term.allSatisfy(tokens.contains) && !ownTerms.contains(term) }
    }
}
