import GRDB

/// The JSON-lines format of `memkeepd import` and `memkeepd export`: one session or memory per
/// line, field names as in the Dakera API, times as RFC 3339 UTC on the way out.
public enum Interchange {
    public struct ImportError: Error, Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    public struct ImportSummary: Sendable, Equatable {
        public var sessions: Int
        public var memories: Int

        public init(sessions: Int, memories: Int) {
            self.sessions = sessions
            self.memories = memories
        }
    }

    static func time(_ value: UnixMillis?) -> JSONValue {
        value.map { .string(TimeFormat.rfc3339($0)) } ?? .null
    }

    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    static func number(_ value: Int64?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }

    static func sessionLine(_ s: Session) -> JSONValue {
        .object([
            "type": "session", "id": .string(s.id), "agent_id": .string(s.agentID),
            "started_at": time(s.startedAt), "last_activity_at": time(s.lastActivityAt), "ended_at": time(s.endedAt),
            "ended_reason": text(s.endedReason?.rawValue), "idle_timeout_secs": number(s.idleTimeoutSeconds),
            "idle_since": time(s.idleSince), "summary": text(s.summary), "metadata": s.metadata,
            "consolidated_at": time(s.consolidatedAt), "consolidated_into": text(s.consolidatedInto),
        ])
    }

    static func memoryLine(_ m: Memory, sources: [String], consolidation: ConsolidationSource? = nil) -> JSONValue {
        let ttl: JSONValue =
            if let expiresAt = m.expiresAt, (expiresAt - m.createdAt) % 1000 == 0, expiresAt > m.createdAt {
                number((expiresAt - m.createdAt) / 1000)
            } else { .null }
        return .object([
            "type": "memory", "id": .string(m.id), "agent_id": .string(m.agentID), "session_id": text(m.sessionID),
            "content": .string(m.content), "memory_type": .string(m.memoryType.rawValue),
            "importance": .number(m.importance), "base_importance": .number(m.baseImportance),
            "decay_ref_at": time(m.decayRefAt), "tags": .array(m.tags.map(JSONValue.string)), "metadata": m.metadata,
            "created_at": time(m.createdAt), "updated_at": time(m.updatedAt),
            "last_accessed_at": time(m.lastAccessedAt), "access_count": number(m.accessCount),
            "expires_at": time(m.expiresAt), "ttl_seconds": ttl, "archived_at": time(m.archivedAt),
            "archived_reason": text(m.archivedReason?.rawValue), "superseded_by": text(m.supersededBy),
            "sources": sources.isEmpty ? .null : .array(sources.map(JSONValue.string)),
            "consolidation": consolidation.map { source in
                .object([
                    "id": .string(source.consolidationID), "summary_id": text(source.summaryID),
                    "fate": .string(source.fate.rawValue), "fate_ref": text(source.fateRef),
                ])
            } ?? .null,
        ])
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension MemoryStore {
    /// Streams the store (or one agent) as JSON lines: sessions by id, then memories by id,
    /// expired-but-unpurged ones included, so an import reproduces the store exactly.
    public func export(agentID: String?, to sink: @escaping @Sendable (String) throws -> Void) async throws {
        if case .postgres(let postgres) = engine { return try await postgres.export(agentID: agentID, to: sink) }
        try await read { db in
            let filter = agentID == nil ? "" : "WHERE agent_id = :agent"
            let arguments: StatementArguments = agentID.map { ["agent": $0] } ?? [:]
            let sessions = try Session.fetchCursor(
                db, sql: "SELECT \(Session.columns) FROM sessions \(filter) ORDER BY id", arguments: arguments)
            while let session = try sessions.next() {
                try sink(Interchange.sessionLine(session).jsonText())
            }
            let sourcesOf = try db.cachedStatement(
                sql: "SELECT source_memory_id FROM consolidation_sources WHERE summary_id = ? ORDER BY source_memory_id")
            let memories = try Memory.fetchCursor(
                db, sql: "SELECT \(Memory.columns) FROM memories \(filter) ORDER BY id", arguments: arguments)
            while let memory = try memories.next() {
                let sources = try String.fetchAll(sourcesOf, arguments: [memory.id])
                let consolidation = try ConsolidationSource.fetchOne(db, key: memory.id)
                try sink(Interchange.memoryLine(memory, sources: sources, consolidation: consolidation).jsonText())
            }
        }
    }

    /// Imports JSON lines atomically: every line is validated first, and one bad line rejects the
    /// whole input with its line number, writing nothing. `progress` hears each line read.
    public func importLines(_ lines: [Substring], progress: (@Sendable (Int) -> Void)? = nil) async throws
        -> Interchange.ImportSummary
    {
        let now = clock.now()
        var parser = Interchange.LineParser(now: now, store: self)
        for (index, line) in lines.enumerated() {
            if !line.allSatisfy(\.isWhitespace) { try parser.parse(line: line, number: index + 1) }
            progress?(1)
        }
        let parsed = parser
        if case .postgres(let postgres) = engine { return try await postgres.importParsed(parsed) }
        return try await transaction { db in try parsed.write(db) }
    }
}

extension Interchange {
    /// One memory as an export line (without provenance), for the purge export.
    public static func line(for memory: Memory) -> String {
        memoryLine(memory, sources: []).jsonText()
    }
}
