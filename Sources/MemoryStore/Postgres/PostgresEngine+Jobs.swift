import PostgresNIO

extension JobRun: PostgresRecord {
    init(_ row: PostgresRandomAccessRow) throws {
        let calls = try row.value("llm_calls", as: Int64?.self)
        self.init(
            id: try row.value("id"), job: try row.value("job"), trigger: try row.value("trigger"),
            holder: try row.value("holder"), startedAt: try row.value("started_at"),
            finishedAt: try row.value("finished_at"), durationMs: try row.value("duration_ms"),
            status: try row.value("status"), examined: try row.value("examined"), changed: try row.value("changed"),
            complete: try row.value("complete"), dryRun: try row.value("dry_run"), error: try row.value("error"),
            llmUsage: try calls.map {
                LLMUsage(
                    calls: Int($0), promptTokens: Int(try row.value("llm_prompt_tokens", as: Int64?.self) ?? 0),
                    completionTokens: Int(try row.value("llm_completion_tokens", as: Int64?.self) ?? 0))
            },
            llmFallbacksText: try row.value("llm_fallbacks"))
    }
}

extension PostgresEngine {
    /// Takes the lease if it is free, expired or ours, in one upsert: nodes asking at once are
    /// ordered by the row's lock, and each later one sees the first one's lease. A lease held by
    /// another is then read under that lock and taken over only if `isHolderDead` says so.
    func acquireLease(
        job: String, holder: String, now: UnixMillis, ttl: UnixMillis, isHolderDead: @Sendable (String) -> Bool
    ) async throws -> LeaseOutcome {
        try await transaction { connection in
            let taken = try await connection.query(
                """
                INSERT INTO leases (job, holder, acquired_at, expires_at) VALUES (\(job), \(holder), \(now), \(now + ttl))
                ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                    expires_at = excluded.expires_at
                WHERE leases.holder = excluded.holder OR leases.expires_at <= \(now)
                RETURNING job
                """, logger: self.logger
            ).scalar(String.self)
            if taken != nil { return .acquired }
            guard
                let (current, expiresAt) = try await connection.query(
                    "SELECT holder, expires_at FROM leases WHERE job = \(job) FOR UPDATE", logger: self.logger
                ).decode((String, Int64).self).first(where: { _ in true })
            else { throw StoreError.backend("PostgreSQL: the lease of \(job) vanished while it was being taken") }
            guard isHolderDead(current) else { return .heldBy(holder: current, expiresAt: expiresAt) }
            try await connection.query(
                """
                UPDATE leases SET holder = \(holder), acquired_at = \(now), expires_at = \(now + ttl)
                WHERE job = \(job) AND holder = \(current)
                """, logger: self.logger)
            return .acquired
        }
    }

    func renewLease(job: String, holder: String, now: UnixMillis, ttl: UnixMillis) async throws -> Bool {
        try await autocommit { connection in
            try await connection.query(
                """
                UPDATE leases SET expires_at = \(now + ttl) WHERE job = \(job) AND holder = \(holder) RETURNING job
                """, logger: self.logger
            ).scalar(String.self) != nil
        }
    }

    func releaseLease(job: String, holder: String) async throws {
        try await autocommit { connection in
            _ = try await connection.query("DELETE FROM leases WHERE job = \(job) AND holder = \(holder)", logger: self.logger)
        }
    }

    func leaseHolder(job: String, now: UnixMillis) async throws -> String? {
        try await autocommit { connection in
            try await connection.query(
                "SELECT holder FROM leases WHERE job = \(job) AND expires_at > \(now)", logger: self.logger
            ).scalar(String.self)
        }
    }

    func beginJobRun(job: String, trigger: JobTrigger, holder: String, now: UnixMillis, dryRun: Bool) async throws
        -> Int64
    {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE job_runs SET status = 'interrupted' WHERE job = \(job) AND status = 'running' AND holder <> \(holder)
                """, logger: self.logger)
            return try await connection.query(
                """
                INSERT INTO job_runs (job, trigger, holder, started_at, status, dry_run)
                VALUES (\(job), \(trigger.rawValue), \(holder), \(now), 'running', \(dryRun)) RETURNING id
                """, logger: self.logger
            ).scalar(Int64.self)!
        }
    }

    func finishJobRun(id: Int64, now: UnixMillis, outcome: JobRunOutcome) async throws {
        try await autocommit { connection in
            _ = try await connection.query(
                """
                UPDATE job_runs SET finished_at = \(now), duration_ms = \(outcome.durationMs),
                    status = \(outcome.status.rawValue), examined = \(Int64(outcome.examined)),
                    changed = \(Int64(outcome.changed)), complete = \(outcome.complete), error = \(outcome.error),
                    llm_fallbacks = \(outcome.llmFallbacksText)
                WHERE id = \(id)
                """, logger: self.logger)
        }
    }

    func jobRuns(job: String?, latestOnly: Bool, limit: Int) async throws -> [JobRun] {
        try await autocommit { connection in
            if latestOnly {
                return try await connection.query(
                    """
                    SELECT * FROM job_runs WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job) ORDER BY job
                    """, logger: self.logger
                ).records(JobRun.self)
            }
            return try await connection.query(
                """
                SELECT * FROM job_runs WHERE (\(job)::text IS NULL OR job = \(job)) ORDER BY id DESC LIMIT \(limit)
                """, logger: self.logger
            ).records(JobRun.self)
        }
    }
}
