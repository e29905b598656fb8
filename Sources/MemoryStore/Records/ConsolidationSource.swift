import GRDB

/// One source of a consolidation and its fate: a row of `consolidation_sources`.
public struct ConsolidationSource: Sendable, Hashable, Codable {
    public var sourceMemoryID: String
    public var consolidationID: String
    /// The summary its text went into; nil when in none.
    public var summaryID: String?
    public var sourceSessionID: String?
    public var fate: SourceFate
    /// `merged`: the merged line; `duplicate_of` and `superseded_by`: the other memory's id.
    public var fateRef: String?

    public init(
        sourceMemoryID: String, consolidationID: String, summaryID: String?, sourceSessionID: String?,
        fate: SourceFate, fateRef: String? = nil
    ) {
        self.sourceMemoryID = sourceMemoryID
        self.consolidationID = consolidationID
        self.summaryID = summaryID
        self.sourceSessionID = sourceSessionID
        self.fate = fate
        self.fateRef = fateRef
    }

    enum CodingKeys: String, CodingKey {
        case sourceMemoryID = "source_memory_id"
        case consolidationID = "consolidation_id"
        case summaryID = "summary_id"
        case sourceSessionID = "source_session_id"
        case fate
        case fateRef = "fate_ref"
    }
}

extension ConsolidationSource: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "consolidation_sources"
}

extension DerivableRequest<ConsolidationSource> {
    /// The sources of one consolidation.
    func of(consolidation id: String) -> Self { filter(Column("consolidation_id") == id) }

    /// The sources whose text went into one summary.
    func into(summary id: String) -> Self { filter(Column("summary_id") == id) }
}
