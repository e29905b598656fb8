import Foundation
import MemoryStore

/// Facts that differ only in numbers, ids, dates or quoted names ("Discussed invoice 7012 line
/// items", "… invoice 7013 …") are one template said many times. They collapse to one line: the
/// newest wording with a count, the range of what varied and the months it spans, e.g.
/// "Discussed invoice 7029 line items; no action needed (30 times, invoices 7000–7029, Mar–May)."
/// The newest wording stays because for a state ("plan has 8 seats") the newest value is the
/// current one.
public enum TemplateMerge {
    /// A fact's words with the variable ones (slots) marked.
    public struct Template: Equatable, Sendable {
        /// The fixed words lower-cased, each slot as "#": equal keys, one template.
        public var key: String
        /// Each word's text; `isSlot` tells which vary.
        public var words: [String]
        public var isSlot: [Bool]
    }

    static let months: Set<String> = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january",
        "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ]
    static let quotes: [Character: Character] = ["\"": "\"", "“": "”", "'": "'", "‘": "’", "«": "»"]

    public static func template(_ text: String) -> Template {
        var words: [String] = []
        var isSlot: [Bool] = []
        var keyParts: [String] = []
        for word in split(text) {
            let core = Self.core(word)
            let quoted = word.first.map { quotes[$0] != nil } == true && word.count > 2
            let slot = quoted || core.contains(where: \.isNumber) || months.contains(core.lowercased())
            words.append(word)
            isSlot.append(slot)
            if slot {
                keyParts.append("#" + String(word.reversed().prefix { $0.isPunctuation && !quotes.values.contains($0) }.reversed()))
            } else {
                keyParts.append(word.lowercased())
            }
        }
        return Template(key: keyParts.joined(separator: " "), words: words, isSlot: isSlot)
    }

    /// A word without the punctuation around it.
    static func core(_ word: String) -> Substring {
        let start = word.firstIndex { !$0.isPunctuation } ?? word.endIndex
        let end = word.lastIndex { !$0.isPunctuation }.map(word.index(after:)) ?? start
        return word[start..<max(start, end)]
    }

    /// Words split at white space; a quoted span ("Acme Corp") is one word.
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var closing: Character?
        for character in text {
            if let close = closing {
                current.append(character)
                if character == close { closing = nil }
            } else if character.isWhitespace {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                if current.isEmpty, let close = quotes[character] { closing = close }
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// One member of a template group.
    public struct Member: Sendable {
        public var text: String
        public var createdAt: UnixMillis
        public init(text: String, createdAt: UnixMillis) {
            self.text = text
            self.createdAt = createdAt
        }
    }

    /// The merged line of a group of at least two facts of one template.
    public static func line(_ members: [Member]) -> String {
        let ordered = members.sorted { $0.createdAt < $1.createdAt }
        let templates = ordered.map { template($0.text) }
        let newest = ordered.last!.text.trimmingCharacters(in: .whitespacesAndNewlines)
        var notes = ["\(members.count) times"]
        let first = templates[0]
        for position in first.words.indices where first.isSlot[position] {
            let values = templates.map { String(Self.core($0.words[position])) }
            guard Set(values).count > 1 else { continue }
            // Numbers and ids are labelled by the word before them ("invoice 7012" → "invoices");
            // names are not ("met \"Acme\"" must not become "mets").
            let label = values.allSatisfy { $0.contains(where: \.isNumber) } ? label(before: position, in: first) : nil
            notes.append(label.map { "\($0) " + range(values) } ?? range(values))
        }
        notes.append(period(ordered.first!.createdAt, ordered.last!.createdAt))
        let note = "(" + notes.joined(separator: ", ") + ")"
        if let last = newest.last, ".!".contains(last) {
            return String(newest.dropLast()) + " " + note + String(last)
        }
        return newest + " " + note
    }

    /// The fixed word before a slot, as a plural label ("invoice 7012" → "invoices").
    static func label(before position: Int, in template: Template) -> String? {
        guard position > 0, !template.isSlot[position - 1] else { return nil }
        let word = template.words[position - 1].lowercased()
        guard word.allSatisfy(\.isLetter), word.count > 2, !FactText.stopwords.contains(word) else { return nil }
        return word.hasSuffix("s") ? word : word + "s"
    }

    /// Whole numbers as "low–high"; other values, up to three as a list in order of first
    /// appearance, more as "first–last" in sorted order.
    static func range(_ values: [String]) -> String {
        let numbers = values.compactMap { Int($0) }
        if numbers.count == values.count { return "\(numbers.min()!)–\(numbers.max()!)" }
        var seen = Set<String>()
        let distinct = values.filter { seen.insert($0).inserted }
        if distinct.count <= 3 { return distinct.joined(separator: ", ") }
        let sorted = distinct.sorted { ($0.count, $0) < ($1.count, $1) }
        return "\(sorted.first!)–\(sorted.last!)"
    }

    /// The months the group spans: "Mar", "Mar–May", "Nov 2025–Feb 2026" (UTC).
    static func period(_ start: UnixMillis, _ end: UnixMillis) -> String {
        let names = FactText.months.map { String($0.prefix(3)) }
        let (a, b) = (FactText.yearAndMonth(start), FactText.yearAndMonth(end))
        if a == b { return names[a.month - 1] }
        if a.year == b.year { return "\(names[a.month - 1])–\(names[b.month - 1])" }
        return "\(names[a.month - 1]) \(a.year)–\(names[b.month - 1]) \(b.year)"
    }
}
