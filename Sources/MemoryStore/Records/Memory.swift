import GRDB

public struct Memory: Sendable, Hashable {
    public var id: String
    public var agentID: String
    public var sessionID: String?
    public var content: String
    public var memoryType: MemoryType
    /// Importance as of the last decay run or write.
    public var importance: Double
    /// Decay is computed from these two, so it is exact whatever the run interval.
    public var baseImportance: Double
    public var decayRefAt: UnixMillis
    public var tags: [String]
    public var metadata: JSONValue
    public var createdAt: UnixMillis
    public var updatedAt: UnixMillis
    public var lastAccessedAt: UnixMillis?
    public var accessCount: Int64
    public var expiresAt: UnixMillis?
    public var archivedAt: UnixMillis?
    public var archivedReason: ArchivedReason?
    public var supersededBy: String?

    public var isPinned: Bool { tags.contains(Memory.pinnedTag) }
    public static let pinnedTag = "pinned"
    public static let summaryTag = "historical-summary"

    public init(
        id: String, agentID: String, sessionID: String? = nil, content: String, memoryType: MemoryType = .episodic,
        importance: Double = 0.5, baseImportance: Double? = nil, decayRefAt: UnixMillis? = nil, tags: [String] = [],
        metadata: JSONValue = .emptyObject, createdAt: UnixMillis, updatedAt: UnixMillis? = nil,
        lastAccessedAt: UnixMillis? = nil, accessCount: Int64 = 0, expiresAt: UnixMillis? = nil,
        archivedAt: UnixMillis? = nil, archivedReason: ArchivedReason? = nil, supersededBy: String? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.sessionID = sessionID
        self.content = content
        self.memoryType = memoryType
        self.importance = importance
        self.baseImportance = baseImportance ?? importance
        self.decayRefAt = decayRefAt ?? createdAt
        self.tags = tags
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.lastAccessedAt = lastAccessedAt
        self.accessCount = accessCount
        self.expiresAt = expiresAt
        self.archivedAt = archivedAt
        self.archivedReason = archivedReason
        self.supersededBy = supersededBy
    }
}

extension Memory {
    /// The memory as `update` leaves it at `now` (`type` is the update's validated type).
    func applying(_ update: MemoryUpdate, type: MemoryType?, now: UnixMillis) -> Memory {
        var memory = self
        if let content = update.content { memory.content = content }
        if let importance = update.importance {
            // A new importance restarts decay from it.
            memory.importance = importance
            memory.baseImportance = importance
            memory.decayRefAt = now
        }
        if let tags = update.tags { memory.tags = tags }
        if let metadata = update.metadata { memory.metadata = metadata }
        if let type { memory.memoryType = type }
        memory.updatedAt = now
        return memory
    }
}

extension Memory: FetchableRecord {
    public init(row: Row) throws {
        self.init(
            id: row["id"], agentID: row["agent_id"], sessionID: row["session_id"], content: row["content"],
            memoryType: MemoryType(rawValue: row["memory_type"]) ?? .episodic, importance: row["importance"],
            baseImportance: row["base_importance"], decayRefAt: row["decay_ref_at"],
            tags: try Self.parseTags(row["tags"]),
            metadata: try JSONValue.parse(row["metadata"]), createdAt: row["created_at"],
            updatedAt: row["updated_at"], lastAccessedAt: row["last_accessed_at"], accessCount: row["access_count"],
            expiresAt: row["expires_at"], archivedAt: row["archived_at"],
            archivedReason: (row["archived_reason"] as String?).flatMap(ArchivedReason.init(rawValue:)),
            supersededBy: row["superseded_by"])
    }

    static let columns = """
        id, agent_id, session_id, content, memory_type, importance, base_importance, decay_ref_at, tags,
        metadata, created_at, updated_at, last_accessed_at, access_count, expires_at, archived_at,
        archived_reason, superseded_by
        """

    static func parseTags(_ text: String) throws -> [String] {
        // The column is written by `tagsText`: compact, and without backslashes its strings hold
        // no quotes, so splitting at `","` is exact. Anything else goes through the decoder.
        if text == "[]" { return [] }
        if text.hasPrefix("[\""), text.hasSuffix("\"]"), !text.contains("\\") {
            let items = text.dropFirst(2).dropLast(2).split(separator: "\",\"", omittingEmptySubsequences: false)
            if items.allSatisfy({ !$0.contains("\"") }) { return items.map(String.init) }
        }
        guard case .array(let values) = try JSONValue.parse(text) else {
            throw StoreError.invalidArgument(field: "tags", reason: "is not a JSON array in the store")
        }
        return values.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// A JSON array of strings, compact: tags, and the id lists of `json_each` arguments. Written
    /// by hand because it is on every store and consolidation path.
    static func tagsText(_ tags: [String]) -> String {
        var text = "["
        for (index, tag) in tags.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for scalar in tag.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: text.unicodeScalars.append(scalar)
                }
            }
            text += "\""
        }
        return text + "]"
    }

    func insert(_ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO memories (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(
            arguments: [
                id, agentID, sessionID, content, memoryType.rawValue, importance, baseImportance, decayRefAt,
                Self.tagsText(tags), metadata.jsonText(), createdAt, updatedAt, lastAccessedAt, accessCount,
                expiresAt, archivedAt, archivedReason?.rawValue, supersededBy,
            ])
    }
}
