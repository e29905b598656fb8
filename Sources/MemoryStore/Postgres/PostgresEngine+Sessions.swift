import PostgresNIO

extension Session: PostgresRecord {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), agentID: try row.value("agent_id"), startedAt: try row.value("started_at"),
            lastActivityAt: try row.value("last_activity_at"), idleTimeoutSeconds: try row.value("idle_timeout_s"),
            idleDeadlineAt: try row.value("idle_deadline_at"), endedAt: try row.value("ended_at"),
            endedReason: try row.value("ended_reason", as: String?.self).flatMap(EndedReason.init(rawValue:)),
            idleSince: try row.value("idle_since"), summary: try row.value("summary"),
            metadata: try JSONValue.parse(try row.value("metadata", as: String.self)),
            consolidatedAt: try row.value("consolidated_at"), consolidatedInto: try row.value("consolidated_into"))
    }
}

extension PostgresEngine {
    func insertSession(_ session: Session) async throws -> Session {
        try await transaction { try await self.insertSession(session, on: $0) }
    }

    func insertSession(_ session: Session, on connection: PostgresConnection) async throws -> Session {
        let inserted = try await connection.query(
            """
            INSERT INTO sessions (\(unescaped: Session.columns)) VALUES (
                \(session.id), \(session.agentID), \(session.startedAt), \(session.lastActivityAt),
                \(session.idleTimeoutSeconds), \(session.idleDeadlineAt), \(session.endedAt),
                \(session.endedReason?.rawValue), \(session.idleSince), \(session.summary),
                \(session.metadata.jsonText()), \(session.consolidatedAt), \(session.consolidatedInto))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger
        ).scalar(String.self)
        guard inserted != nil else { throw StoreError.alreadyExists(kind: "session", id: session.id) }
        if let deadline = session.idleDeadlineAt { try await notifyDeadline(deadline, on: connection) }
        return session
    }

    /// Tells every node's orphan sweep about a deadline set here; delivered at commit, and
    /// only to listeners, so a store without a sweeping daemon pays one small message.
    func notifyDeadline(_ deadline: UnixMillis, on connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_notify(\(Self.deadlineChannel), \(String(deadline)))", logger: logger)
    }

    func session(id: String) async throws -> Session? {
        try await autocommit { try await Self.fetchSession($0, id: id, logger: self.logger) }
    }

    static func fetchSession(_ connection: PostgresConnection, id: String, logger: Logger) async throws -> Session? {
        try await connection.query(
            "SELECT \(unescaped: Session.columns) FROM sessions WHERE id = \(id)", logger: logger
        ).records(Session.self).first
    }

    /// One prepared statement, outside any explicit transaction: the heartbeat is one round
    /// trip, and the server plans it once per connection. Without a row, the session is unknown,
    /// another tenant's, or was closed by another node while the statement waited on its row:
    /// the statement's snapshot predates that close, so a second read, in a new one, tells.
    func touchSession(id: String, visibleTo agents: AgentPattern?, now: UnixMillis, defaultTimeout: Int64)
        async throws -> Session
    {
        let statement = TouchSession(id: id, now: now, defaultTimeout: defaultTimeout, pattern: agents?.likePattern)
        let found = try await autocommit { connection -> Session? in
            if let touched = try await connection.execute(statement, logger: self.logger).first(where: { _ in true }) {
                return touched
            }
            return try await Self.fetchSession(connection, id: id, logger: self.logger).flatMap { session in
                session.endedAt != nil && agents?.matches(session.agentID) ?? true ? session : nil
            }
        }
        guard let found else { throw StoreError.sessionNotFound(id) }
        return found
    }

    /// Activity on an open session: last_activity_at and the deadline move forward (never
    /// earlier, so no other node needs to hear of it).
    @discardableResult
    func recordActivity(
        _ connection: PostgresConnection, sessionID: String, now: UnixMillis, defaultTimeout: Int64
    ) async throws -> Session? {
        try await connection.execute(
            RecordActivity(id: sessionID, now: now, defaultTimeout: defaultTimeout), logger: logger
        ).first { _ in true }
    }

    func endSession(id: String, reason: EndedReason, summary: String?, now: UnixMillis) async throws -> Session {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE sessions SET ended_at = \(now), ended_reason = \(reason.rawValue), idle_deadline_at = NULL,
                    summary = coalesce(\(summary), summary)
                WHERE id = \(id) AND ended_at IS NULL
                """, logger: self.logger)
            guard let session = try await Self.fetchSession(connection, id: id, logger: self.logger) else {
                throw StoreError.sessionNotFound(id)
            }
            return session
        }
    }

    /// Ends a session for a signed webhook; a webhook id seen before (by any node) is a replay.
    func endSessionByWebhook(id: String, webhookID: String?, now: UnixMillis) async throws
        -> (session: Session, duplicate: Bool)
    {
        try await transaction { connection in
            guard try await Self.fetchSession(connection, id: id, logger: self.logger) != nil else {
                throw StoreError.sessionNotFound(id)
            }
            if let webhookID {
                let fresh = try await connection.query(
                    """
                    INSERT INTO webhook_receipts (webhook_id, received_at) VALUES (\(webhookID), \(now))
                    ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id
                    """, logger: self.logger
                ).scalar(String.self)
                if fresh == nil {
                    return (try await Self.fetchSession(connection, id: id, logger: self.logger)!, true)
                }
            }
            try await connection.query(
                """
                UPDATE sessions SET ended_at = \(now), ended_reason = 'webhook', idle_deadline_at = NULL
                WHERE id = \(id) AND ended_at IS NULL
                """, logger: self.logger)
            return (try await Self.fetchSession(connection, id: id, logger: self.logger)!, false)
        }
    }

    func sessions(agentID: String?, visibleTo agents: AgentPattern?, openOnly: Bool, limit: Int, offset: Int)
        async throws -> [Session]
    {
        try await autocommit { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Session.columns) FROM sessions
                WHERE (\(agentID)::text IS NULL OR agent_id = \(agentID))
                  AND (\(agents?.likePattern)::text IS NULL OR agent_id LIKE \(agents?.likePattern))
                  AND (NOT \(openOnly) OR ended_at IS NULL)
                ORDER BY started_at DESC, id LIMIT \(limit) OFFSET \(offset)
                """, logger: self.logger
            ).records(Session.self)
        }
    }

    func sessionsPastDeadline(now: UnixMillis) async throws -> Int {
        try await autocommit { connection in
            Int(
                try await connection.query(
                    "SELECT count(*) FROM sessions WHERE idle_deadline_at <= \(now)", logger: self.logger
                ).scalar(Int64.self) ?? 0)
        }
    }

    func nextIdleDeadline() async throws -> UnixMillis? {
        try await autocommit { connection in
            try await connection.query(
                "SELECT min(idle_deadline_at) FROM sessions WHERE idle_deadline_at IS NOT NULL", logger: self.logger
            ).scalar(Int64.self)
        }
    }

    /// Ends due sessions in deadline order, a set-based statement per chunk, checking the bound
    /// between chunks. `FOR UPDATE SKIP LOCKED`: a session a heartbeat is moving right now is
    /// left to the next run instead of waiting for it.
    func closeOrphans(now: UnixMillis, after cursor: Cursor, limit: Int, dryRun: Bool, bound: BatchBound?)
        async throws -> OrphanBatch
    {
        try await transaction(dryRun: dryRun) { connection in
            let timeUp = BatchBound.start(bound)
            var closed: [ClosedSession] = []
            var position = cursor
            while true {
                let chunk = min(Self.setChunk, limit - closed.count)
                var ended: [(seq: Int64, session: ClosedSession)] = []
                for try await (seq, id, agentID, idleSince, deadline) in try await connection.query(
                    """
                    WITH due AS (
                        SELECT seq, idle_deadline_at FROM sessions
                        WHERE idle_deadline_at IS NOT NULL AND idle_deadline_at <= \(now)
                          AND (idle_deadline_at, seq) > (\(position.key), \(position.rowid))
                        ORDER BY idle_deadline_at, seq LIMIT \(chunk)
                        FOR UPDATE SKIP LOCKED)
                    UPDATE sessions SET ended_at = \(now), ended_reason = 'idle', idle_since = last_activity_at,
                        idle_deadline_at = NULL
                    FROM due WHERE sessions.seq = due.seq
                    RETURNING sessions.seq, sessions.id, sessions.agent_id, sessions.idle_since, due.idle_deadline_at
                    """, logger: self.logger
                ).decode((Int64, String, String, Int64, Int64).self) {
                    ended.append(
                        (seq, ClosedSession(id: id, agentID: agentID, idleSince: idleSince, deadline: deadline)))
                }
                ended.sort { ($0.session.deadline, $0.seq) < ($1.session.deadline, $1.seq) }
                closed += ended.map(\.session)
                guard let last = ended.last, ended.count == chunk else { return OrphanBatch(closed: closed, next: nil) }
                position = Cursor(key: last.session.deadline, rowid: last.seq)
                if closed.count == limit || timeUp() { return OrphanBatch(closed: closed, next: position) }
            }
        }
    }
}

/// `$1` the session, `$2` now, `$3` the default idle timeout: the update that records activity,
/// shared by the heartbeat and by every write into a session.
private let activityUpdate = """
    UPDATE sessions SET last_activity_at = greatest(last_activity_at, $2),
        idle_deadline_at = CASE coalesce(idle_timeout_s, $3) WHEN 0 THEN NULL
            ELSE greatest(last_activity_at, $2) + coalesce(idle_timeout_s, $3) * 1000 END
    WHERE id = $1 AND ended_at IS NULL
    """

/// Activity on an open session, returned as updated.
struct RecordActivity: PostgresPreparedStatement {
    static let sql = activityUpdate + " RETURNING \(Session.columns)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .int8]

    var id: String
    var now: UnixMillis
    var defaultTimeout: Int64

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(id)
        bindings.append(now)
        bindings.append(defaultTimeout)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Session { try Session(row.makeRandomAccess()) }
}

/// The heartbeat: the activity update of an open session whose agent matches `$4` (a LIKE
/// pattern; NULL: any), else an ended one as it was, else no row.
struct TouchSession: PostgresPreparedStatement {
    static let sql = """
        WITH touched AS (\(activityUpdate) AND ($4::text IS NULL OR agent_id LIKE $4) RETURNING \(Session.columns))
        SELECT \(Session.columns) FROM touched
        UNION ALL
        SELECT \(Session.columns) FROM sessions
        WHERE id = $1 AND ended_at IS NOT NULL AND ($4::text IS NULL OR agent_id LIKE $4)
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .int8, .text]

    var id: String
    var now: UnixMillis
    var defaultTimeout: Int64
    var pattern: String?

    func makeBindings() -> PostgresBindings {
        var bindings = RecordActivity(id: id, now: now, defaultTimeout: defaultTimeout).makeBindings()
        if let pattern { bindings.append(pattern) } else { bindings.appendNull() }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Session { try Session(row.makeRandomAccess()) }
}
