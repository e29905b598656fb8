import GRDB

/// A live memory as consolidation plans with it: only the columns the planner reads, and the
/// memory's vector of the configured model when it has one.
public struct ConsolidationFact: Sendable, Hashable {
    public var id: String
    public var agentID: String
    public var sessionID: String?
    public var content: String
    public var memoryType: MemoryType
    public var importance: Double
    public var tags: [String]
    public var createdAt: UnixMillis
    public var supersededBy: String?
    public var vector: [Float]?

    public init(
        id: String, agentID: String = "", sessionID: String? = nil, content: String, memoryType: MemoryType = .episodic,
        importance: Double = 0.5, tags: [String] = [], createdAt: UnixMillis, supersededBy: String? = nil,
        vector: [Float]? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.sessionID = sessionID
        self.content = content
        self.memoryType = memoryType
        self.importance = importance
        self.tags = tags
        self.createdAt = createdAt
        self.supersededBy = supersededBy
        self.vector = vector
    }

    static let columns = """
        memories.id, memories.session_id, memories.content, memories.memory_type, memories.importance, \
        memories.tags, memories.created_at, memories.superseded_by, memories.agent_id
        """

    init(row: Row, vector: [Float]?) throws {
        let tagsText: String = row[5]
        self.init(
            id: row[0], sessionID: row[1], content: row[2], memoryType: MemoryType(rawValue: row[3]) ?? .episodic,
            importance: row[4], tags: try Memory.parseTags(tagsText), createdAt: row[6], supersededBy: row[7],
            vector: vector)
        agentID = row[8]
    }
}
