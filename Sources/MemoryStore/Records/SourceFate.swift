/// What a consolidation did with one of its sources, recorded for `explain`.
public enum SourceFate: String, Sendable, Codable, CaseIterable, Hashable {
    /// Its text is a line of a summary, and the memory stays live: recallable on its own.
    case kept
    /// Collapsed with facts that differ only in numbers, ids, dates or quoted names into one
    /// counted line (the reference is that line).
    case merged
    /// The same fact as a newer one (the reference), which stands for both.
    case duplicateOf = "duplicate_of"
    /// A later fact (the reference) says it no longer holds.
    case supersededBy = "superseded_by"
    /// Below `consolidation.min_fact_importance`: archived, in no summary.
    case belowFloor = "below_floor"
    /// Written by earlier releases, which left a fact out when its summary was full:
    /// archived, in no summary. No consolidation writes it now; `memkeepd reconsolidate`
    /// brings such facts back.
    case overCap = "over_cap"
}
