import PostgresNIO

extension PostgresEngine {
    func counts(now: UnixMillis) async throws -> StoreCounts {
        try await read { connection in
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
