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

        public var representativeID: String { memberIDs.last! }
    }

    public struct Topic: Sendable, Equatable {
        /// The summary's lines, in order.
        public var lines: [Line]
        /// `historical-summary` first, then the most common tags of its sources.
        public var tags: [String]
        public var importance: Double
        public var periodStart: UnixMillis
        public var periodEnd: UnixMillis
        /// Every source that belongs to the topic: its lines' members, their duplicates, and
        /// the lines left out over the cap.
        public var sourceIDs: [String]
        public var sessionIDs: [String]

        /// The extractive text: one "- " line per fact.
        public var extractiveText: String { lines.map { "- " + $0.text }.joined(separator: "\n") }
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
