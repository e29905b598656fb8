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
        try await snapshot { connection in
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
    /// `Interchange.LineParser.write` on PostgreSQL: the same checks and the same first error,
    /// in one transaction, with the records copied in by COPY rather than a statement each.
    func importParsed(_ parsed: Interchange.LineParser) async throws -> Interchange.ImportSummary {
        try await transaction { connection in
            let sessions = parsed.sessions.map(\.session)
            let insertedSessions = try await self.insertCopied(sessions, into: "sessions", on: connection)
            if let (line, session) = parsed.sessions.first(where: { !insertedSessions.contains($0.session.id) }) {
                throw Interchange.ImportError(line: line, reason: "session \(session.id) already exists in the store")
            }
            if let deadline = sessions.compactMap(\.idleDeadlineAt).min() {
                try await self.notifyDeadline(deadline, on: connection)
            }
            var sessionAgents = Dictionary(sessions.map { ($0.id, $0.agentID) }, uniquingKeysWith: { first, _ in first })
            let elsewhere = Array(Set(parsed.memories.compactMap(\.memory.sessionID)).subtracting(sessionAgents.keys))
            if !elsewhere.isEmpty {
                for try await (id, agent) in try await connection.query(
                    "SELECT id, agent_id FROM sessions WHERE id = ANY(\(elsewhere))", logger: self.logger
                ).decode((String, String).self) {
                    sessionAgents[id] = agent
                }
            }
            let insertedMemories = try await self.insertCopied(
                parsed.memories.map(\.memory), into: "memories", on: connection)
            for (line, memory, _, _) in parsed.memories {
                if let sessionID = memory.sessionID {
                    guard let agent = sessionAgents[sessionID] else {
                        throw Interchange.ImportError(line: line, reason: "session_id \(sessionID) is unknown")
                    }
                    guard agent == memory.agentID else {
                        throw Interchange.ImportError(line: line, reason: "session_id \(sessionID) belongs to another agent")
                    }
                }
                guard insertedMemories.contains(memory.id) else {
                    throw Interchange.ImportError(line: line, reason: "memory \(memory.id) already exists in the store")
                }
            }
            let consolidations = parsed.memories.compactMap(\.consolidation)
            if !consolidations.isEmpty {
                let staging = try await self.stage(consolidations, like: "consolidation_sources", on: connection)
                try await connection.query(
                    """
                    INSERT INTO consolidation_sources (\(unescaped: ConsolidationSource.columns))
                    SELECT \(unescaped: ConsolidationSource.columns) FROM \(unescaped: staging)
                    ON CONFLICT (source_memory_id) DO UPDATE SET consolidation_id = excluded.consolidation_id,
                        summary_id = excluded.summary_id, source_session_id = excluded.source_session_id,
                        fate = excluded.fate, fate_ref = excluded.fate_ref
                    """, logger: self.logger)
            }
            // A summary's `sources` without fates: each one kept, in a consolidation named after
            // the summary (see `LineParser.write`). Every memory is in the store by now, so its
            // session comes from there.
            let kept = parsed.memories.flatMap { entry in entry.sources.map { (source: $0, summary: entry.memory.id) } }
            if !kept.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO consolidation_sources (source_memory_id, consolidation_id, summary_id, source_session_id, fate)
                    SELECT kept.source, kept.summary, kept.summary, memories.session_id, 'kept'
                    FROM unnest(\(kept.map(\.source))::text[], \(kept.map(\.summary))::text[]) WITH ORDINALITY
                        AS kept(source, summary, position)
                    LEFT JOIN memories ON memories.id = kept.source
                    ORDER BY kept.position
                    ON CONFLICT (source_memory_id) DO NOTHING
                    """, logger: self.logger)
            }
            return Interchange.ImportSummary(sessions: parsed.sessions.count, memories: parsed.memories.count)
        }
    }
}
