import GRDB

public struct SessionStart: Sendable {
    public var id: String?
    public var agentID: String
    public var idleTimeoutSeconds: Int64?
    public var metadata: JSONValue

    public init(id: String? = nil, agentID: String, idleTimeoutSeconds: Int64? = nil, metadata: JSONValue = .emptyObject) {
        self.id = id
        self.agentID = agentID
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.metadata = metadata
    }
}

extension MemoryStore {
    /// The idle deadline for a session active at `lastActivity`; nil when it never times out.
    public func idleDeadline(lastActivity: UnixMillis, timeoutSeconds: Int64?) -> UnixMillis? {
        let timeout = timeoutSeconds ?? configuration.defaultIdleTimeoutSeconds
        return timeout == 0 ? nil : lastActivity + timeout * 1000
    }

    public func startSession(_ start: SessionStart) async throws -> Session {
        try Validation.agentID(start.agentID)
        if let id = start.id { try Validation.recordID(id, field: "session_id") }
        if let timeout = start.idleTimeoutSeconds { try Validation.idleTimeout(timeout) }
        try Validation.metadata(start.metadata)
        let now = clock.now()
        let session = Session(
            id: start.id ?? Self.newID(now: now), agentID: start.agentID, startedAt: now, lastActivityAt: now,
            idleTimeoutSeconds: start.idleTimeoutSeconds,
            idleDeadlineAt: idleDeadline(lastActivity: now, timeoutSeconds: start.idleTimeoutSeconds),
            metadata: start.metadata)
        if case .postgres(let postgres) = engine { return try await postgres.insertSession(session) }
        return try await transaction { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sessions WHERE id = ?", arguments: [session.id]) == true {
                throw StoreError.alreadyExists(kind: "session", id: session.id)
            }
            try session.insert(db)
            return session
        }
    }

    public func session(id: String) async throws -> Session? {
        if case .postgres(let postgres) = engine { return try await postgres.session(id: id) }
        return try await read { db in try Self.fetchSession(db, id: id) }
    }

    static func fetchSession(_ db: Database, id: String) throws -> Session? {
        // Cached: preparing a statement (GRDB authorizes every one) cost more than running it
        // on the heartbeat path.
        try Session.fetchOne(db.cachedStatement(sql: "SELECT \(Session.columns) FROM sessions WHERE id = ?"), arguments: [id])
    }

    /// Heartbeat: moves an open session's idle deadline. An ended session is returned unchanged,
    /// never re-opened. A session of an agent outside `agents` (the caller's tenancy) is answered
    /// like a missing one and left alone. The check is part of the write: one trip to the store.
    public func touchSession(id: String, visibleTo agents: AgentPattern? = nil) async throws -> Session {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.touchSession(
                id: id, visibleTo: agents, now: now, defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        return try await groupWrite { db in
            guard let found = try Self.fetchSession(db, id: id), agents?.matches(found.agentID) ?? true else {
                throw StoreError.sessionNotFound(id)
            }
            guard found.endedAt == nil else { return found }
            return try self.recordActivity(db, sessionID: id, now: now) ?? found
        }
    }

    /// Activity on an open session: last_activity_at and the deadline move forward. Returns the
    /// session as updated (nil when it is ended or unknown), in the same statement.
    @discardableResult
    func recordActivity(_ db: Database, sessionID: String, now: UnixMillis) throws -> Session? {
        let defaultTimeout = configuration.defaultIdleTimeoutSeconds
        return try Session.fetchOne(db.cachedStatement(
            sql: """
                UPDATE sessions SET
                    last_activity_at = max(last_activity_at, :now),
                    idle_deadline_at = CASE coalesce(idle_timeout_s, :default) WHEN 0 THEN NULL
                        ELSE max(last_activity_at, :now) + coalesce(idle_timeout_s, :default) * 1000 END
                WHERE id = :id AND ended_at IS NULL
                RETURNING \(Session.columns)
                """
        ), arguments: ["now": now, "default": defaultTimeout, "id": sessionID])
    }

    /// Ends a session. Idempotent: ending an ended session returns it as it is.
    public func endSession(id: String, reason: EndedReason = .client, summary: String? = nil) async throws -> Session {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.endSession(id: id, reason: reason, summary: summary, now: now)
        }
        return try await transaction { db in
            try db.execute(
                sql: """
                    UPDATE sessions SET ended_at = ?, ended_reason = ?, idle_deadline_at = NULL,
                        summary = coalesce(?, summary)
                    WHERE id = ? AND ended_at IS NULL
                    """,
                arguments: [now, reason.rawValue, summary, id])
            guard let session = try Self.fetchSession(db, id: id) else { throw StoreError.sessionNotFound(id) }
            return session
        }
    }

    /// Sessions newest first. `visibleTo` narrows them to a tenant's agents before the page is
    /// cut, so every page of a tenant's listing is full.
    public func sessions(
        agentID: String? = nil, visibleTo agents: AgentPattern? = nil, openOnly: Bool = false, limit: Int = 100,
        offset: Int = 0
    ) async throws -> [Session] {
        if case .postgres(let postgres) = engine {
            return try await postgres.sessions(
                agentID: agentID, visibleTo: agents, openOnly: openOnly, limit: limit, offset: offset)
        }
        return try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let agentID {
                conditions.append("agent_id = ?")
                arguments += [agentID]
            }
            if let agents {
                conditions.append("agent_id GLOB ?")
                arguments += [agents.glob]
            }
            if openOnly { conditions.append("ended_at IS NULL") }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Session.fetchAll(
                db,
                sql: "SELECT \(Session.columns) FROM sessions \(whereClause) ORDER BY started_at DESC, id LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset])
        }
    }

    /// The earliest idle deadline of any open session: one index lookup.
    public func nextIdleDeadline() async throws -> UnixMillis? {
        if case .postgres(let postgres) = engine { return try await postgres.nextIdleDeadline() }
        return try await read { db in try Self.fetchNextIdleDeadline(db) }
    }

    static func fetchNextIdleDeadline(_ db: Database) throws -> UnixMillis? {
        try UnixMillis.fetchOne(db, sql: "SELECT min(idle_deadline_at) FROM sessions WHERE idle_deadline_at IS NOT NULL")
    }
}
