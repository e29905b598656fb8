import PostgresNIO

extension PostgresEngine {
    func agents(now: UnixMillis) async throws -> [AgentSummary] {
        try await autocommit { connection in
            var agents: [AgentSummary] = []
            for try await (agentID, memories, sessions, active) in try await connection.query(
                """
                WITH ids AS (SELECT agent_id FROM memories UNION SELECT agent_id FROM sessions)
                SELECT ids.agent_id,
                    (SELECT count(*) FROM memories m WHERE m.agent_id = ids.agent_id AND m.archived_at IS NULL
                        AND (m.expires_at IS NULL OR m.expires_at > \(now))),
                    (SELECT count(*) FROM sessions s WHERE s.agent_id = ids.agent_id),
                    (SELECT count(*) FROM sessions s WHERE s.agent_id = ids.agent_id AND s.ended_at IS NULL)
                FROM ids ORDER BY ids.agent_id
                """, logger: self.logger
            ).decode((String, Int64, Int64, Int64).self) {
                agents.append(
                    AgentSummary(
                        agentID: agentID, memoryCount: Int(memories), sessionCount: Int(sessions),
                        activeSessions: Int(active)))
            }
            return agents
        }
    }

    func agentStats(agentID: String, now: UnixMillis) async throws -> AgentStats? {
        try await autocommit { connection in
            let (live, archived, average, oldest, newest) = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE archived_at IS NULL), count(*) FILTER (WHERE archived_at IS NOT NULL),
                    avg(importance) FILTER (WHERE archived_at IS NULL), min(created_at), max(created_at)
                FROM memories WHERE agent_id = \(agentID) AND (expires_at IS NULL OR expires_at > \(now))
                """, logger: self.logger
            ).decode((Int64, Int64, Double?, Int64?, Int64?).self).first { _ in true }!
            let (totalSessions, activeSessions) = try await connection.query(
                """
                SELECT count(*), count(*) FILTER (WHERE ended_at IS NULL) FROM sessions WHERE agent_id = \(agentID)
                """, logger: self.logger
            ).decode((Int64, Int64).self).first { _ in true }!
            guard live + archived + totalSessions > 0 else { return nil }
            var byType: [String: Int] = [:]
            for try await (type, count) in try await connection.query(
                """
                SELECT memory_type, count(*) FROM memories
                WHERE agent_id = \(agentID) AND archived_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
                GROUP BY memory_type
                """, logger: self.logger
            ).decode((String, Int64).self) {
                byType[type] = Int(count)
            }
            return AgentStats(
                agentID: agentID, totalMemories: Int(live), archivedMemories: Int(archived), memoriesByType: byType,
                totalSessions: Int(totalSessions), activeSessions: Int(activeSessions), averageImportance: average,
                oldestMemoryAt: oldest, newestMemoryAt: newest)
        }
    }

    func memoryCounts(sessionIDs: [String], now: UnixMillis) async throws -> [String: Int] {
        try await autocommit { connection in
            var counts: [String: Int] = [:]
            for try await (sessionID, count) in try await connection.query(
                """
                SELECT session_id, count(*) FROM memories
                WHERE session_id = ANY(\(sessionIDs)) AND archived_at IS NULL
                  AND (expires_at IS NULL OR expires_at > \(now))
                GROUP BY session_id
                """, logger: self.logger
            ).decode((String, Int64).self) {
                counts[sessionID] = Int(count)
            }
            return counts
        }
    }

    func recordLLMUsage(
        _ usage: LLMUsage, day: Int64, runID: Int64?, answer: (promptKey: String, content: String)?, now: UnixMillis
    ) async throws {
        try await transaction { connection in
            if let answer {
                try await connection.query(
                    """
                    INSERT INTO llm_answers (prompt_key, content, created_at) VALUES (\(answer.promptKey), \(answer.content), \(now))
                    ON CONFLICT (prompt_key) DO UPDATE SET content = excluded.content, created_at = excluded.created_at
                    """, logger: self.logger)
            }
            try await connection.query(
                """
                INSERT INTO llm_usage (day, calls, prompt_tokens, completion_tokens)
                VALUES (\(day), \(Int64(usage.calls)), \(Int64(usage.promptTokens)), \(Int64(usage.completionTokens)))
                ON CONFLICT (day) DO UPDATE SET calls = llm_usage.calls + excluded.calls,
                    prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens
                """, logger: self.logger)
            if let runID {
                try await connection.query(
                    """
                    UPDATE job_runs SET llm_calls = coalesce(llm_calls, 0) + \(Int64(usage.calls)),
                        llm_prompt_tokens = coalesce(llm_prompt_tokens, 0) + \(Int64(usage.promptTokens)),
                        llm_completion_tokens = coalesce(llm_completion_tokens, 0) + \(Int64(usage.completionTokens))
                    WHERE id = \(runID)
                    """, logger: self.logger)
            }
        }
    }

    func llmUsage(day: Int64) async throws -> LLMUsage {
        try await autocommit { connection in
            let row = try await connection.query(
                "SELECT calls, prompt_tokens, completion_tokens FROM llm_usage WHERE day = \(day)", logger: self.logger
            ).decode((Int64, Int64, Int64).self).first { _ in true }
            return LLMUsage(
                calls: Int(row?.0 ?? 0), promptTokens: Int(row?.1 ?? 0), completionTokens: Int(row?.2 ?? 0))
        }
    }

    func paidLLMAnswer(promptKey: String, since: UnixMillis) async throws -> String? {
        try await autocommit { connection in
            try await connection.query(
                "SELECT content FROM llm_answers WHERE prompt_key = \(promptKey) AND created_at >= \(since)",
                logger: self.logger
            ).scalar(String.self)
        }
    }
}
