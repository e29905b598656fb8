import GRDB

public enum JobTrigger: String, Sendable, Codable {
    case schedule, once, webhook, admin
}

public enum JobRunStatus: String, Sendable, Codable {
    case running, ok, failed, interrupted
}

public struct JobRun: Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var job: String
    public var trigger: String
    public var holder: String
    public var startedAt: UnixMillis
    public var finishedAt: UnixMillis?
    public var durationMs: Double?
    public var status: String
    public var examined: Int64
    public var changed: Int64
    public var complete: Bool
    public var dryRun: Bool
    public var error: String?
    /// The LLM summarizer's spend in this run (nil when it made no call), counted as calls
    /// returned, and its fallbacks by reason (set when the run finishes).
    public var llmUsage: LLMUsage?
    public var llmFallbacks: [String: Int]?

    init(
        id: Int64, job: String, trigger: String, holder: String, startedAt: UnixMillis, finishedAt: UnixMillis?,
        durationMs: Double?, status: String, examined: Int64, changed: Int64, complete: Bool, dryRun: Bool,
        error: String?, llmUsage: LLMUsage?, llmFallbacksText: String?
    ) {
        self.id = id
        self.job = job
        self.trigger = trigger
        self.holder = holder
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.status = status
        self.examined = examined
        self.changed = changed
        self.complete = complete
        self.dryRun = dryRun
        self.error = error
        self.llmUsage = llmUsage
        llmFallbacks = llmFallbacksText.flatMap { try? JSONValue.parse($0).objectValue }?
            .compactMapValues { value -> Int? in
                if case .number(let count) = value { Int(count) } else { nil }
            }
    }

    public init(row: Row) {
        self.init(
            id: row["id"], job: row["job"], trigger: row["trigger"], holder: row["holder"],
            startedAt: row["started_at"], finishedAt: row["finished_at"], durationMs: row["duration_ms"],
            status: row["status"], examined: row["examined"], changed: row["changed"], complete: row["complete"],
            dryRun: row["dry_run"], error: row["error"],
            llmUsage: (row["llm_calls"] as Int?).map {
                LLMUsage(
                    calls: $0, promptTokens: row["llm_prompt_tokens"] ?? 0,
                    completionTokens: row["llm_completion_tokens"] ?? 0)
            },
            llmFallbacksText: row["llm_fallbacks"])
    }
}

public struct JobRunOutcome: Sendable {
    public var status: JobRunStatus
    public var examined: Int
    public var changed: Int
    public var complete: Bool
    public var durationMs: Double
    public var error: String?
    public var llmFallbacks: [String: Int]?

    public init(
        status: JobRunStatus, examined: Int, changed: Int, complete: Bool, durationMs: Double, error: String?,
        llmFallbacks: [String: Int]? = nil
    ) {
        self.status = status
        self.examined = examined
        self.changed = changed
        self.complete = complete
        self.durationMs = durationMs
        self.error = error
        self.llmFallbacks = llmFallbacks
    }

    /// The fallbacks as the JSON text the store keeps.
    var llmFallbacksText: String? {
        llmFallbacks.map { JSONValue.object($0.mapValues { .number(Double($0)) }).jsonText() }
    }
}

extension MemoryStore {
    /// Opens a `job_runs` row. Runs of this job still marked running belonged to a holder that
    /// died (we hold the lease now), so they are closed as interrupted.
    public func beginJobRun(job: String, trigger: JobTrigger, holder: String, now: UnixMillis, dryRun: Bool)
        async throws -> Int64
    {
        if case .postgres(let postgres) = engine {
            return try await postgres.beginJobRun(job: job, trigger: trigger, holder: holder, now: now, dryRun: dryRun)
        }
        return try await transaction { db in
            try db.execute(
                sql: "UPDATE job_runs SET status = 'interrupted' WHERE job = ? AND status = 'running' AND holder != ?",
                arguments: [job, holder])
            try db.execute(
                sql: """
                    INSERT INTO job_runs (job, trigger, holder, started_at, status, dry_run)
                    VALUES (?, ?, ?, ?, 'running', ?)
                    """,
                arguments: [job, trigger.rawValue, holder, now, dryRun])
            return db.lastInsertedRowID
        }
    }

    public func finishJobRun(id: Int64, now: UnixMillis, outcome: JobRunOutcome) async throws {
        if case .postgres(let postgres) = engine { return try await postgres.finishJobRun(id: id, now: now, outcome: outcome) }
        try await transaction { db in
            try db.execute(
                sql: """
                    UPDATE job_runs SET finished_at = ?, duration_ms = ?, status = ?, examined = ?, changed = ?,
                        complete = ?, error = ?, llm_fallbacks = ? WHERE id = ?
                    """,
                arguments: [
                    now, outcome.durationMs, outcome.status.rawValue, outcome.examined, outcome.changed,
                    outcome.complete, outcome.error, outcome.llmFallbacksText, id,
                ])
        }
    }

    /// The newest run of each job.
    public func lastJobRuns() async throws -> [JobRun] {
        if case .postgres(let postgres) = engine { return try await postgres.jobRuns(job: nil, latestOnly: true, limit: 0) }
        return try await read { db in
            try JobRun.fetchAll(
                db,
                sql: """
                    SELECT * FROM job_runs WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job) ORDER BY job
                    """)
        }
    }

    public func jobRuns(job: String? = nil, limit: Int = 50) async throws -> [JobRun] {
        if case .postgres(let postgres) = engine {
            return try await postgres.jobRuns(job: job, latestOnly: false, limit: limit)
        }
        return try await read { db in
            if let job {
                return try JobRun.fetchAll(
                    db, sql: "SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT ?", arguments: [job, limit])
            }
            return try JobRun.fetchAll(db, sql: "SELECT * FROM job_runs ORDER BY id DESC LIMIT ?", arguments: [limit])
        }
    }
}
