import GRDB

public struct Session: Sendable, Hashable {
    public var id: String
    public var agentID: String
    public var startedAt: UnixMillis
    public var lastActivityAt: UnixMillis
    /// nil: the configured default; 0: never times out.
    public var idleTimeoutSeconds: Int64?
    public var idleDeadlineAt: UnixMillis?
    public var endedAt: UnixMillis?
    public var endedReason: EndedReason?
    public var idleSince: UnixMillis?
    public var summary: String?
    public var metadata: JSONValue
    public var consolidatedAt: UnixMillis?
    public var consolidatedInto: String?

    public var isOpen: Bool { endedAt == nil }

    public init(
        id: String, agentID: String, startedAt: UnixMillis, lastActivityAt: UnixMillis,
        idleTimeoutSeconds: Int64? = nil, idleDeadlineAt: UnixMillis? = nil, endedAt: UnixMillis? = nil,
        endedReason: EndedReason? = nil, idleSince: UnixMillis? = nil, summary: String? = nil,
        metadata: JSONValue = .emptyObject, consolidatedAt: UnixMillis? = nil, consolidatedInto: String? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.startedAt = startedAt
        self.lastActivityAt = lastActivityAt
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.idleDeadlineAt = idleDeadlineAt
        self.endedAt = endedAt
        self.endedReason = endedReason
        self.idleSince = idleSince
        self.summary = summary
        self.metadata = metadata
        self.consolidatedAt = consolidatedAt
        self.consolidatedInto = consolidatedInto
    }
}

extension Session: FetchableRecord {
    public init(row: Row) throws {
        self.init(
            id: row["id"], agentID: row["agent_id"], startedAt: row["started_at"],
            lastActivityAt: row["last_activity_at"], idleTimeoutSeconds: row["idle_timeout_s"],
            idleDeadlineAt: row["idle_deadline_at"], endedAt: row["ended_at"],
            endedReason: (row["ended_reason"] as String?).flatMap(EndedReason.init(rawValue:)),
            idleSince: row["idle_since"], summary: row["summary"],
            metadata: try JSONValue.parse(row["metadata"]),
            consolidatedAt: row["consolidated_at"], consolidatedInto: row["consolidated_into"])
    }

    static let columns = """
        id, agent_id, started_at, last_activity_at, idle_timeout_s, idle_deadline_at, ended_at,
        ended_reason, idle_since, summary, metadata, consolidated_at, consolidated_into
        """

    func insert(_ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO sessions (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                id, agentID, startedAt, lastActivityAt, idleTimeoutSeconds, idleDeadlineAt, endedAt,
                endedReason?.rawValue, idleSince, summary, metadata.jsonText(), consolidatedAt, consolidatedInto,
            ])
    }
}
