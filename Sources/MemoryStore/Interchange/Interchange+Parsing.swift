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
            let fields = Fields(object: object, line: number)
            let type = try fields.string("type")
            let id = try fields.string("id")
            do { try Validation.recordID(id) } catch { throw fail(error.description) }
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

    /// Typed access to one line's fields, each error naming the field and the line.
    struct Fields {
        let object: [String: JSONValue]
        let line: Int
        /// Names the object of nested fields in errors ("consolidation.").
        var prefix = ""

        func fail(_ field: String, _ reason: String) -> ImportError {
            ImportError(line: line, reason: "\(prefix)\(field) \(reason)")
        }

        func has(_ key: String) -> Bool {
            if let value = object[key], value != .null { return true }
            return false
        }

        func string(_ key: String) throws(ImportError) -> String {
            guard let value = try optionalString(key) else { throw fail(key, "is required") }
            return value
        }

        func optionalString(_ key: String) throws(ImportError) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw fail(key, "must be a string")
            }
        }

        func double(_ key: String) throws(ImportError) -> Double? {
            switch object[key] {
            case nil, .null?: return nil
            case .number(let n)?: return n
            default: throw fail(key, "must be a number")
            }
        }

        func integer(_ key: String) throws(ImportError) -> Int64? {
            guard let n = try double(key) else { return nil }
            guard n.rounded() == n, abs(n) < 9.0e15 else { throw fail(key, "must be a whole number") }
            return Int64(n)
        }

        /// RFC 3339 text or Unix seconds.
        func time(_ key: String) throws(ImportError) -> UnixMillis? {
            switch object[key] {
            case nil, .null?: return nil
            case .number(let seconds)?:
                guard seconds.isFinite, abs(seconds) < 1.0e13 else { throw fail(key, "is not a valid Unix time") }
                return UnixMillis((seconds * 1000).rounded())
            case .string(let text)?:
                guard let millis = TimeFormat.parseRFC3339(text) else {
                    throw fail(key, "must be an RFC 3339 time or Unix seconds")
                }
                return millis
            default: throw fail(key, "must be an RFC 3339 time or Unix seconds")
            }
        }

        func stringArray(_ key: String) throws(ImportError) -> [String]? {
            switch object[key] {
            case nil, .null?: return nil
            case .array(let values)?:
                var result: [String] = []
                for value in values {
                    guard case .string(let s) = value else { throw fail(key, "must be an array of strings") }
                    result.append(s)
                }
                return result
            default: throw fail(key, "must be an array of strings")
            }
        }

        func metadata() throws(ImportError) -> JSONValue {
            switch object["metadata"] {
            case nil, .null?: return .emptyObject
            case .object(let value)?: return .object(value)
            default: throw fail("metadata", "must be a JSON object")
            }
        }

        func checked<T>(_ body: () throws(StoreError) -> T) throws(ImportError) -> T {
            do { return try body() } catch { throw ImportError(line: line, reason: error.description) }
        }

        func session(id: String, store: MemoryStore, now: UnixMillis) throws(ImportError) -> Session {
            let agentID = try string("agent_id")
            try checked { () throws(StoreError) in try Validation.agentID(agentID) }
            guard let startedAt = try time("started_at") else { throw fail("started_at", "is required") }
            let lastActivity = try time("last_activity_at") ?? startedAt
            let endedAt = try time("ended_at")
            let timeout = try integer("idle_timeout_secs")
            if let timeout { try checked { () throws(StoreError) in try Validation.idleTimeout(timeout) } }
            var reason: EndedReason?
            if let text = try optionalString("ended_reason") {
                guard let parsed = EndedReason(rawValue: text) else {
                    throw fail("ended_reason", "must be one of client, idle, webhook")
                }
                guard endedAt != nil else { throw fail("ended_reason", "is set but ended_at is not") }
                reason = parsed
            } else if endedAt != nil {
                reason = .client
            }
            let consolidatedInto = try optionalString("consolidated_into")
            var consolidatedAt = try time("consolidated_at")
            if consolidatedInto != nil, consolidatedAt == nil { consolidatedAt = endedAt }
            return Session(
                id: id, agentID: agentID, startedAt: startedAt, lastActivityAt: lastActivity,
                idleTimeoutSeconds: timeout,
                idleDeadlineAt: endedAt == nil ? store.idleDeadline(lastActivity: lastActivity, timeoutSeconds: timeout) : nil,
                endedAt: endedAt, endedReason: reason, idleSince: try time("idle_since"),
                summary: try optionalString("summary"), metadata: try metadata(), consolidatedAt: consolidatedAt,
                consolidatedInto: consolidatedInto)
        }

        /// The `consolidation` object of a consolidated source: its consolidation, summary and fate.
        func consolidation(of memory: Memory) throws(ImportError) -> ConsolidationSource? {
            switch object["consolidation"] {
            case nil, .null?: return nil
            case .object(let value)?:
                let fields = Fields(object: value, line: line, prefix: "consolidation.")
                let id = try fields.string("id")
                let summaryID = try fields.optionalString("summary_id")
                try checked { () throws(StoreError) in
                    try Validation.recordID(id, field: "consolidation.id")
                    if let summaryID { try Validation.recordID(summaryID, field: "consolidation.summary_id") }
                }
                let fateText = try fields.string("fate")
                guard let fate = SourceFate(rawValue: fateText) else {
                    throw fail(
                        "consolidation.fate", "must be one of \(SourceFate.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return ConsolidationSource(
                    sourceMemoryID: memory.id, consolidationID: id, summaryID: summaryID,
                    sourceSessionID: memory.sessionID, fate: fate, fateRef: try fields.optionalString("fate_ref"))
            default: throw fail("consolidation", "must be a JSON object")
            }
        }

        func memory(id: String, now: UnixMillis) throws(ImportError) -> (Memory, [String]) {
            let agentID = try string("agent_id")
            let content = try string("content")
            let typeText = try optionalString("memory_type") ?? MemoryType.episodic.rawValue
            let importance = try double("importance") ?? 0.5
            let base = try double("base_importance") ?? importance
            let tags = try stringArray("tags") ?? []
            let sessionID = try optionalString("session_id")
            let type = try checked { () throws(StoreError) in
                try Validation.agentID(agentID)
                try Validation.content(content)
                try Validation.importance(importance)
                try Validation.importance(base, field: "base_importance")
                try Validation.tags(tags)
                if let sessionID { try Validation.recordID(sessionID, field: "session_id") }
                return try Validation.memoryType(typeText)
            }
            let createdAt = try time("created_at") ?? now
            var expiresAt = try time("expires_at")
            if expiresAt == nil, let ttl = try integer("ttl_seconds") {
                try checked { () throws(StoreError) in try Validation.ttl(ttl) }
                expiresAt = createdAt + ttl * 1000
            }
            let archivedAt = try time("archived_at")
            var archivedReason: ArchivedReason?
            if let text = try optionalString("archived_reason") {
                guard let parsed = ArchivedReason(rawValue: text) else {
                    throw fail("archived_reason", "must be consolidated or decayed")
                }
                guard archivedAt != nil else { throw fail("archived_reason", "is set but archived_at is not") }
                archivedReason = parsed
            } else if archivedAt != nil {
                archivedReason = .consolidated
            }
            let accessCount = try integer("access_count") ?? 0
            guard accessCount >= 0 else { throw fail("access_count", "must not be negative") }
            let memory = Memory(
                id: id, agentID: agentID, sessionID: sessionID, content: content, memoryType: type,
                importance: importance, baseImportance: base,
                // Without a reference time the given importance is taken as of the import.
                decayRefAt: try time("decay_ref_at") ?? (has("base_importance") ? createdAt : now),
                tags: tags, metadata: try metadata(), createdAt: createdAt,
                updatedAt: try time("updated_at") ?? createdAt, lastAccessedAt: try time("last_accessed_at"),
                accessCount: accessCount, expiresAt: expiresAt, archivedAt: archivedAt, archivedReason: archivedReason,
                supersededBy: try optionalString("superseded_by"))
            return (memory, try stringArray("sources") ?? [])
        }
    }
}
