import MemoryStore

/// What one consolidation batch becomes: topic summaries made of lines, and a fate for every
/// source. Plain values, decided by `SummaryPlanner` without I/O.
public struct SummaryPlan: Sendable {
    /// One line of a summary: a kept fact, or a merged template group.
    public struct Line: Sendable, Equatable {
        public var text: String
        /// The facts its text stands for, oldest first.
        public var memberIDs: [String]
        /// Facts that are the same as this line (`duplicate_of` its newest member).
        public var duplicateIDs: [String] = []
        public var importance: Double
        /// 0 for decisions, open tasks, constraints and state changes; 1 for the rest.
        public var priority: Int
        /// When its newest member was written.
        public var newest: UnixMillis
        /// When its oldest member or duplicate was written.
        public var oldest: UnixMillis

        public var representativeID: String { memberIDs.last! }

        /// The line as a summary shows it: with when it was said, "- [2023-05-08] …", or the
        /// span of its members and duplicates, "- [2023-03-01 – 2023-05-08] …".
        public var rendered: String { SummaryLine.render(text, oldest: oldest, newest: newest) }
    }

    public struct Topic: Sendable, Equatable {
        /// The summary's lines, in order.
        public var lines: [Line]
        /// `historical-summary` first, then the most common tags of its sources.
        public var tags: [String]
        public var importance: Double
        public var periodStart: UnixMillis
        public var periodEnd: UnixMillis
        /// Every source that belongs to the summary: its lines' members and their duplicates.
        public var sourceIDs: [String]
        public var sessionIDs: [String]

        /// The extractive text: one dated "- " line per fact.
        public var extractiveText: String { lines.map(\.rendered).joined(separator: "\n") }
    }

    public struct Decision: Sendable, Equatable {
        public var fate: SourceFate
        /// The merged line, or the id of the fact it duplicates or that supersedes it.
        public var ref: String?
        /// The topic whose summary it belongs to; nil for facts in no summary.
        public var topic: Int?
    }

    public var topics: [Topic]
    /// Every source's fate, by memory id.
    public var decisions: [String: Decision]
}
