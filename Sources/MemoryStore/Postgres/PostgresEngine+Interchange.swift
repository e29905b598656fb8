import PostgresNIO

extension PostgresEngine {
    func counts(now: UnixMillis) async throws -> StoreCounts {
        try await autocommit { connection in
            let row = try await connection.query(
                """
                SELECT
                    (SELECT count(*) FROM sessions WHERE ended_at IS NULL),
                    (SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL),
                    (SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL AND consolidated_at IS NULL),
                    (SELECT count(*) FROM memories),
                    (SELECT count(*) FROM memories WHERE expires_at <= \(now)),
                    (SELECT count(*) FROM memories WHERE archived_at IS NOT NULL AND (expires_at IS NULL OR expires_at > \(now))),
                    (SELECT min(idle_deadline_at) FROM sessions WHERE idle_deadline_at IS NOT NULL),
                    (SELECT min(expires_at) FROM memories WHERE expires_at > \(now))
                """, logger: self.logger
            ).decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64?, Int64?).self).first { _ in true }!
            return StoreCounts(
                openSessions: Int(row.0), endedSessions: Int(row.1), unconsolidatedSessions: Int(row.2),
                liveMemories: Int(row.3 - row.4 - row.5), archivedMemories: Int(row.5), expiredMemories: Int(row.4),
                nextIdleDeadline: row.6, nextExpiry: row.7)
        }
    }

    /// The export, streamed from one snapshot (a repeatable-read transaction): rows reach the
    /// sink as the server sends them, never all held at once.
    func export(agentID: String?, to sink: @Sendable (String) throws -> Void) async throws {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Session.columns) FROM sessions
                WHERE \(agentID)::text IS NULL OR agent_id = \(agentID) ORDER BY id
                """, logger: self.logger)
            {
                try sink(Interchange.sessionLine(try Session(row.makeRandomAccess())).jsonText())
            }
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Memory.columns),
                    (SELECT array_agg(s.source_memory_id ORDER BY s.source_memory_id) FROM consolidation_sources s
                        WHERE s.summary_id = memories.id) AS sources,
                    c.consolidation_id, c.summary_id AS consolidation_summary_id, c.source_session_id, c.fate, c.fate_ref
                FROM memories LEFT JOIN consolidation_sources c ON c.source_memory_id = memories.id
                WHERE \(agentID)::text IS NULL OR agent_id = \(agentID) ORDER BY id
                """, logger: self.logger)
            {
                let columns = row.makeRandomAccess()
                let memory = try Memory(columns)
                var consolidation: ConsolidationSource?
                if let consolidationID = try columns.value("consolidation_id", as: String?.self) {
                    let fate = try columns.value("fate", as: String.self)
                    guard let known = SourceFate(rawValue: fate) else {
                        throw StoreError.backend("PostgreSQL: unknown fate \(fate) of source \(memory.id)")
                    }
                    consolidation = ConsolidationSource(
                        sourceMemoryID: memory.id, consolidationID: consolidationID,
                        summaryID: try columns.value("consolidation_summary_id"),
                        sourceSessionID: try columns.value("source_session_id"), fate: known,
                        fateRef: try columns.value("fate_ref"))
                }
                let sources = try columns.value("sources", as: [String]?.self) ?? []
                try sink(Interchange.memoryLine(memory, sources: sources, consolidation: consolidation).jsonText())
            }
        }
    }
}

extension PostgresEngine {
    /// `Interchange.LineParser.write` on PostgreSQL: the same checks, in one transaction.
    func importParsed(_ parsed: Interchange.LineParser) async throws -> Interchange.ImportSummary {
        try await transaction { connection in
            var sessionAgents: [String: String] = [:]
            for (line, session) in parsed.sessions {
                do {
                    _ = try await self.insertSession(session, on: connection)
                } catch StoreError.alreadyExists {
                    throw Interchange.ImportError(line: line, reason: "session \(session.id) already exists in the store")
                }
                sessionAgents[session.id] = session.agentID
            }
            var memorySessions: [String: String?] = [:]
            for (line, memory, _, _) in parsed.memories {
                if let sessionID = memory.sessionID {
                    var agent = sessionAgents[sessionID]
                    if agent == nil {
                        agent = try await connection.query(
                            "SELECT agent_id FROM sessions WHERE id = \(sessionID)", logger: self.logger
                        ).scalar(String.self)
                    }
                    guard let agent else {
                        throw Interchange.ImportError(line: line, reason: "session_id \(sessionID) is unknown")
                    }
                    guard agent == memory.agentID else {
                        throw Interchange.ImportError(line: line, reason: "session_id \(sessionID) belongs to another agent")
                    }
                }
                do {
                    try await self.insert(memory, on: connection)
                } catch StoreError.alreadyExists {
                    throw Interchange.ImportError(line: line, reason: "memory \(memory.id) already exists in the store")
                }
                memorySessions[memory.id] = memory.sessionID
            }
            for case let (_, _, _, consolidation?) in parsed.memories {
                try await self.upsert(consolidation, on: connection)
            }
            // A summary's `sources` without fates: each one kept, in a consolidation named after
            // the summary (see `LineParser.write`).
            for (_, memory, sources, _) in parsed.memories {
                for source in sources {
                    var session = memorySessions[source] ?? nil
                    if memorySessions[source] == nil {
                        session = try await connection.query(
                            "SELECT session_id FROM memories WHERE id = \(source)", logger: self.logger
                        ).scalar(String.self)
                    }
                    try await connection.query(
                        """
                        INSERT INTO consolidation_sources
                            (source_memory_id, consolidation_id, summary_id, source_session_id, fate)
                        VALUES (\(source), \(memory.id), \(memory.id), \(session), 'kept')
                        ON CONFLICT (source_memory_id) DO NOTHING
                        """, logger: self.logger)
                }
            }
            return Interchange.ImportSummary(sessions: parsed.sessions.count, memories: parsed.memories.count)
        }
    }

    func upsert(_ source: ConsolidationSource, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO consolidation_sources
                (source_memory_id, consolidation_id, summary_id, source_session_id, fate, fate_ref)
            VALUES (\(source.sourceMemoryID), \(source.consolidationID), \(source.summaryID),
                \(source.sourceSessionID), \(source.fate.rawValue), \(source.fateRef))
            ON CONFLICT (source_memory_id) DO UPDATE SET consolidation_id = excluded.consolidation_id,
                summary_id = excluded.summary_id, source_session_id = excluded.source_session_id,
                fate = excluded.fate, fate_ref = excluded.fate_ref
            """, logger: logger)
    }
}
