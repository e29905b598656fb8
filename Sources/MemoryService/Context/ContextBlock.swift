import Foundation
import MemoryStore

/// The parts a context block may hold.
public enum ContextSection: String, Sendable, CaseIterable {
    case facts, summaries
    case openTasks = "open_tasks"
}

/// The session-start context: a compact, sectioned text within a token budget, and the
/// memories it was built from.
public struct ContextBlock: Sendable, Equatable {
    public var text: String
    public var tokens: Int
    public var memoryIDs: [String]
    /// Whether something that qualified was left out for the budget.
    public var truncated: Bool

    public var json: JSONValue {
        .object([
            "context": .string(text), "tokens": .number(Double(tokens)),
            "memories": .array(memoryIDs.map(JSONValue.string)), "truncated": .bool(truncated),
        ])
    }
}

/// Decides what a context block holds: plain value code, no I/O.
///
/// Items are chosen in priority order while the whole text stays within the budget: open
/// tasks, then current facts (in the order given: recall order with a query, else importance
/// and recency), then summary lines, newest period first. The text is then laid out in fixed
/// section order: current facts, history, open tasks. Same input, same text.
public struct ContextBuilder: Sendable {
    public var budgetTokens: Int
    public var include: Set<ContextSection>

    public init(budgetTokens: Int, include: Set<ContextSection> = Set(ContextSection.allCases)) {
        self.budgetTokens = budgetTokens
        self.include = include
    }

    /// The documented estimator: words (runs of non-space characters) × 1.3, rounded up. It
    /// over-counts English against the built-in model's WordPiece count, so a block within the
    /// budget by this count is within it for a real tokenizer too.
    public static func estimatedTokens(_ text: String) -> Int {
        tokens(words: wordCount(text))
    }

    static func tokens(words: Int) -> Int { (words * 13 + 9) / 10 }

    static func wordCount(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }

    /// One line of history: a summary's line and the summary's covered period.
    struct HistoryLine {
        var summaryID: String
        var period: String
        /// When it was said ("[2023-05-08]"), for lines of dated summaries.
        var date: String?
        var text: String
        /// When its period ends: a change stated later makes it stale.
        var time: UnixMillis
    }

    enum Item {
        case task(Memory)
        case fact(Memory)
        case history(HistoryLine)

        /// Its place in the text: facts, history, tasks.
        var section: Int {
            switch self {
            case .fact: 0
            case .history: 1
            case .task: 2
            }
        }

        var header: String {
            switch self {
            case .fact: "Current facts:"
            case .history: "History (newest first):"
            case .task: "Open tasks:"
            }
        }
    }

    public func build(_ material: ContextMaterial) -> ContextBlock {
        let allHistory = Self.history(material)
        let stale = Self.staleByLaterChange(
            material.facts.map { ($0.content, $0.createdAt) } + allHistory.map { ($0.text, $0.time) })
        let facts = material.facts.enumerated().filter { !stale.contains($0.offset) }.map(\.element)
        let history = allHistory.enumerated().filter { !stale.contains(material.facts.count + $0.offset) }.map(\.element)
        var candidates: [Item] = []
        if include.contains(.openTasks) { candidates += facts.filter(Self.isOpenTask).map(Item.task) }
        if include.contains(.facts) { candidates += facts.filter { !Self.isOpenTask($0) }.map(Item.fact) }
        // A summary line whose fact is itself among the facts (consolidation keeps kept facts
        // live) is said once, as a fact.
        let factTexts = Set(facts.map { Self.oneLine($0.content).trimmingCharacters(in: .whitespaces) })
        if include.contains(.summaries) {
            candidates += history.filter { !factTexts.contains($0.text.trimmingCharacters(in: .whitespaces)) }.map(Item.history)
        }

        // Words are counted as items are added, so choosing is linear in the candidates; the
        // rendered text is checked once at the end (a period repeated out of order is the only
        // case the count misses).
        var chosen: [Item] = []
        var truncated = false
        var words = 0
        var sections: Set<Int> = []
        var periods: Set<String> = []
        for candidate in candidates {
            var added = Self.wordCount(Self.line(candidate))
            if !sections.contains(candidate.section) { added += Self.wordCount(candidate.header) }
            if case .history(let line) = candidate, !periods.contains(line.period) { added += Self.wordCount(line.period) }
            guard Self.tokens(words: words + added) <= budgetTokens else {
                truncated = true
                continue
            }
            chosen.append(candidate)
            words += added
            sections.insert(candidate.section)
            if case .history(let line) = candidate { periods.insert(line.period) }
        }
        var text = Self.render(chosen)
        while Self.estimatedTokens(text) > budgetTokens {
            chosen.removeLast()
            truncated = true
            text = Self.render(chosen)
        }
        var ids: [String] = []
        for item in Self.ordered(chosen) {
            let id: String
            switch item {
            case .task(let memory), .fact(let memory): id = memory.id
            case .history(let line): id = line.summaryID
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return ContextBlock(text: text, tokens: Self.estimatedTokens(text), memoryIDs: ids, truncated: truncated)
    }

    /// The summaries' lines, newest period first, without the lines of sources a later fact
    /// superseded.
    static func history(_ material: ContextMaterial) -> [HistoryLine] {
        material.summaries.flatMap { summary in
            let stale = material.supersededSources[summary.id] ?? []
            return summary.content.split(separator: "\n").compactMap { raw -> HistoryLine? in
                let (date, text) = SummaryLine.parse(raw)
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty, !stale.contains(text) else { return nil }
                return HistoryLine(
                    summaryID: summary.id, period: period(summary), date: date, text: text, time: periodEnd(summary))
            }
        }
    }

    /// The indexes of texts that a later one states a change away from ("migrated the database
    /// from PostgreSQL 14 to MySQL 8" makes an earlier "runs PostgreSQL 14" stale), by the
    /// rules consolidation uses.
    static func staleByLaterChange(_ texts: [(text: String, time: UnixMillis)]) -> Set<Int> {
        let parsed = texts.map { text, time in
            let sentences = FactText.sentences(text)
            return (tokens: Set(sentences.joined()), changes: sentences.flatMap(Supersession.terms(sentence:)), time: time)
        }
        let changes = parsed.filter { !$0.changes.isEmpty }
        guard !changes.isEmpty else { return [] }
        return Set(parsed.indices.filter { index in
            let fact = parsed[index]
            return changes.contains { change in
                change.time > fact.time
                    && Supersession.supersedes(changes: change.changes, tokens: fact.tokens, own: fact.changes)
            }
        })
    }

    static func periodEnd(_ summary: Memory) -> UnixMillis {
        guard case .string(let time)? = summary.metadata.objectValue?["period_end"] else { return summary.createdAt }
        return TimeFormat.parseRFC3339(time) ?? summary.createdAt
    }

    /// "2026-03" or "2026-01 to 2026-03", from the summary's covered period.
    static func period(_ summary: Memory) -> String {
        func month(_ key: String) -> String? {
            guard case .string(let time)? = summary.metadata.objectValue?[key] else { return nil }
            return String(time.prefix(7))
        }
        let start = month("period_start") ?? TimeFormat.rfc3339(summary.createdAt).prefix(7).description
        let end = month("period_end") ?? start
        return start == end ? start : "\(start) to \(end)"
    }

    /// Section order: facts, history (by period as given), tasks; within each, chosen order.
    static func ordered(_ items: [Item]) -> [Item] {
        items.enumerated().sorted { ($0.element.section, $0.offset) < ($1.element.section, $1.offset) }.map(\.element)
    }

    /// An item's line: "- ", when it was said, and its text on one line.
    static func line(_ item: Item) -> String {
        switch item {
        case .task(let memory), .fact(let memory):
            "- " + SummaryLine.date(oldest: memory.createdAt, newest: memory.createdAt) + " " + oneLine(memory.content)
        case .history(let line): "- " + (line.date.map { $0 + " " } ?? "") + oneLine(line.text)
        }
    }

    static func render(_ items: [Item]) -> String {
        var lines: [String] = []
        var lastSection: Int?
        var lastPeriod = ""
        for item in ordered(items) {
            if item.section != lastSection {
                if !lines.isEmpty { lines.append("") }
                lines.append(item.header)
                lastSection = item.section
            }
            if case .history(let line) = item, line.period != lastPeriod {
                lines.append(line.period + ":")
                lastPeriod = line.period
            }
            lines.append(line(item))
        }
        return lines.joined(separator: "\n")
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Tags that mark a memory as a task.
    static let taskTags: Set<String> = ["task", "todo", "open-task"]
    /// Phrases that say something is still to do, matched on whole words.
    static let openTaskPhrases = [
        "todo", "to do", "is next", "are next", "next step", "next steps", "next up", "up next", "pending", "blocked on",
        "still need", "still needs", "need to", "needs to", "follow up", "remaining", "not done yet", "open task",
    ]

    /// An open task: tagged as one, or worded as something still to do.
    static func isOpenTask(_ memory: Memory) -> Bool {
        if memory.tags.contains(where: { taskTags.contains($0.lowercased()) }) { return true }
        let words = memory.content.lowercased().split { !$0.isLetter && !$0.isNumber }
        let text = " " + words.joined(separator: " ") + " "
        return openTaskPhrases.contains { text.contains(" \($0) ") }
    }
}
