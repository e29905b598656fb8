import GRDB

extension Interchange {
    /// Turns lines into records, checking every rule that does not need the database; the rest
    /// (ids already in the store, unknown sessions) is checked in the import transaction.
    struct LineParser: Sendable {
        let now: UnixMillis
        let store: MemoryStore
        var sessions: [(line: Int, session: Session)] = []
        var memories: [(line: Int, memory: Memory, sources: [String], consolidation: ConsolidationSource?)] = []
        var seenIDs: Set<String> = []

        init(now: UnixMillis, store: MemoryStore) {
            self.now = now
            self.store = store
        }

        mutating func parse(line: Substring, number: Int) throws(ImportError) {
            do {
                try record(line: line, number: number)
            } catch let error as ImportError {
                throw error
            } catch {
                throw ImportError(line: number, reason: "\(error)")
            }
        }

        /// One line's record; a field's error (`FieldError`, `StoreError`) gets its line from the caller.
        private mutating func record(line: Substring, number: Int) throws {
            func fail(_ reason: String) -> ImportError { ImportError(line: number, reason: reason) }
            let value: JSONValue
            do {
                value = try JSONValue.parse(String(line), exactNumbers: true)
            } catch let error as JSONValue.InexactNumber {
                throw fail(error.description)
            } catch {
                throw fail("not a JSON object")
            }
            guard let object = value.objectValue else { throw fail("not a JSON object") }
            let fields = JSONFields(object)
            let type = try fields.string("type")
            let id = try fields.string("id")
            try Validation.recordID(id)
            guard seenIDs.insert("\(type):\(id)").inserted else { throw fail("duplicate \(type) id \(id)") }
            switch type {
            case "session": sessions.append((number, try fields.session(id: id, store: store, now: now)))
            case "memory":
                let (memory, sources) = try fields.memory(id: id, now: now)
                memories.append((number, memory, sources, try fields.consolidation(of: memory)))
            default: throw fail("type must be \"session\" or \"memory\"")
            }
        }

        func write(_ db: Database) throws -> ImportSummary {
            var sessionAgents: [String: String] = [:]
            for (line, session) in sessions {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM sessions WHERE id = ?", arguments: [session.id]) == true {
                    throw ImportError(line: line, reason: "session \(session.id) already exists in the store")
                }
                try session.insert(db)
                sessionAgents[session.id] = session.agentID
            }
            var memorySessions: [String: String?] = [:]
            for (line, memory, _, _) in memories {
                if let sessionID = memory.sessionID {
                    let agent = try sessionAgents[sessionID]
                        ?? String.fetchOne(db, sql: "SELECT agent_id FROM sessions WHERE id = ?", arguments: [sessionID])
                    guard let agent else { throw ImportError(line: line, reason: "session_id \(sessionID) is unknown") }
                    guard agent == memory.agentID else {
                        throw ImportError(line: line, reason: "session_id \(sessionID) belongs to another agent")
                    }
                }
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM memories WHERE id = ?", arguments: [memory.id]) == true {
                    throw ImportError(line: line, reason: "memory \(memory.id) already exists in the store")
                }
                try memory.insert(db)
                memorySessions[memory.id] = memory.sessionID
            }
            for (_, _, _, consolidation) in memories {
                try consolidation?.insert(db, onConflict: .replace)
            }
            // A summary's `sources` without fates (files of single-summary consolidations): each
            // one kept, in a consolidation named after the summary.
            for (_, memory, sources, _) in memories {
                for source in sources where try ConsolidationSource.fetchOne(db, key: source) == nil {
                    let session = try memorySessions[source]
                        ?? String.fetchOne(db, sql: "SELECT session_id FROM memories WHERE id = ?", arguments: [source])
                    try ConsolidationSource(
                        sourceMemoryID: source, consolidationID: memory.id, summaryID: memory.id,
                        sourceSessionID: session ?? nil, fate: .kept
                    ).insert(db)
                }
            }
            return ImportSummary(sessions: sessions.count, memories: memories.count)
        }
    }
}

/// The records of an import line, read by the same field rules as a request body.
extension JSONFields {
    func session(id: String, store: MemoryStore, now: UnixMillis) throws -> Session {
        let agentID = try string("agent_id")
        try Validation.agentID(agentID)
        guard let startedAt = try optionalTime("started_at") else { throw invalid("started_at", "is required") }
        let lastActivity = try optionalTime("last_activity_at") ?? startedAt
        let endedAt = try optionalTime("ended_at")
        let timeout = try optionalInt("idle_timeout_secs")
        if let timeout { try Validation.idleTimeout(timeout) }
        var reason: EndedReason?
        if let text = try optionalString("ended_reason") {
            guard let parsed = EndedReason(rawValue: text) else {
                throw invalid("ended_reason", "must be one of client, idle, webhook")
            }
            guard endedAt != nil else { throw invalid("ended_reason", "is set but ended_at is not") }
            reason = parsed
        } else if endedAt != nil {
            reason = .client
        }
        let consolidatedInto = try optionalString("consolidated_into")
        var consolidatedAt = try optionalTime("consolidated_at")
        if consolidatedInto != nil, consolidatedAt == nil { consolidatedAt = endedAt }
        return Session(
            id: id, agentID: agentID, startedAt: startedAt, lastActivityAt: lastActivity,
            idleTimeoutSeconds: timeout,
            idleDeadlineAt: endedAt == nil ? store.idleDeadline(lastActivity: lastActivity, timeoutSeconds: timeout) : nil,
            endedAt: endedAt, endedReason: reason, idleSince: try optionalTime("idle_since"),
            summary: try optionalString("summary"), metadata: try optionalObject("metadata") ?? .emptyObject, consolidatedAt: consolidatedAt,
            consolidatedInto: consolidatedInto)
    }

    /// The `consolidation` object of a consolidated source: its consolidation, summary and fate.
    func consolidation(of memory: Memory) throws -> ConsolidationSource? {
        switch fields["consolidation"] {
        case nil, .null?: return nil
        case .object(let value)?:
            let fields = JSONFields(value, prefix: "consolidation.")
            let id = try fields.string("id")
            let summaryID = try fields.optionalString("summary_id")
            try Validation.recordID(id, field: "consolidation.id")
            if let summaryID { try Validation.recordID(summaryID, field: "consolidation.summary_id") }
            let fateText = try fields.string("fate")
            guard let fate = SourceFate(rawValue: fateText) else {
                throw fields.invalid(
                    "fate", "must be one of \(SourceFate.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return ConsolidationSource(
                sourceMemoryID: memory.id, consolidationID: id, summaryID: summaryID,
                sourceSessionID: memory.sessionID, fate: fate, fateRef: try fields.optionalString("fate_ref"))
        default: throw invalid("consolidation", "must be a JSON object")
        }
    }

    func memory(id: String, now: UnixMillis) throws -> (Memory, [String]) {
        let agentID = try string("agent_id")
        let content = try string("content")
        let typeText = try optionalString("memory_type") ?? MemoryType.episodic.rawValue
        let importance = try optionalDouble("importance") ?? 0.5
        let base = try optionalDouble("base_importance") ?? importance
        let tags = try optionalStrings("tags") ?? []
        let sessionID = try optionalString("session_id")
        try Validation.agentID(agentID)
        try Validation.content(content)
        try Validation.importance(importance)
        try Validation.importance(base, field: "base_importance")
        try Validation.tags(tags)
        if let sessionID { try Validation.recordID(sessionID, field: "session_id") }
        let type = try Validation.memoryType(typeText)
        let createdAt = try optionalTime("created_at") ?? now
        var expiresAt = try optionalTime("expires_at")
        if expiresAt == nil, let ttl = try optionalInt("ttl_seconds") {
            try Validation.ttl(ttl)
            expiresAt = createdAt + ttl * 1000
        }
        let archivedAt = try optionalTime("archived_at")
        var archivedReason: ArchivedReason?
        if let text = try optionalString("archived_reason") {
            guard let parsed = ArchivedReason(rawValue: text) else {
                throw invalid("archived_reason", "must be consolidated or decayed")
            }
            guard archivedAt != nil else { throw invalid("archived_reason", "is set but archived_at is not") }
            archivedReason = parsed
        } else if archivedAt != nil {
            archivedReason = .consolidated
        }
        let accessCount = try optionalInt("access_count") ?? 0
        guard accessCount >= 0 else { throw invalid("access_count", "must not be negative") }
        let memory = Memory(
            id: id, agentID: agentID, sessionID: sessionID, content: content, memoryType: type,
            importance: importance, baseImportance: base,
            // Without a reference time the given importance is taken as of the import.
            decayRefAt: try optionalTime("decay_ref_at") ?? (isPresent("base_importance") ? createdAt : now),
            tags: tags, metadata: try optionalObject("metadata") ?? .emptyObject, createdAt: createdAt,
            updatedAt: try optionalTime("updated_at") ?? createdAt, lastAccessedAt: try optionalTime("last_accessed_at"),
            accessCount: accessCount, expiresAt: expiresAt, archivedAt: archivedAt, archivedReason: archivedReason,
            supersededBy: try optionalString("superseded_by"))
        return (memory, try optionalStrings("sources") ?? [])
    }
}
