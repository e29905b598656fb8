/// Metadata keys of memkeep's log entries. The journald handler turns them into field names
/// (`memkeep.job` → `MEMKEEP_JOB`), so they must stay stable: operators filter on them.
public enum LogKey {
    public static let job = "memkeep.job"
    public static let runID = "memkeep.run_id"
    public static let trigger = "memkeep.trigger"
    public static let examined = "memkeep.examined"
    public static let changed = "memkeep.changed"
    public static let durationMs = "memkeep.duration_ms"
    public static let dryRun = "memkeep.dry_run"
    public static let complete = "memkeep.complete"
    public static let error = "memkeep.error"
    public static let holder = "memkeep.holder"
    public static let idleSeconds = "memkeep.idle_seconds"
    public static let summaryID = "memkeep.summary_id"
    public static let summaries = "memkeep.summaries"
    public static let llmCalls = "memkeep.llm_calls"
    public static let llmPromptTokens = "memkeep.llm_prompt_tokens"
    public static let llmCompletionTokens = "memkeep.llm_completion_tokens"
    public static let llmFallbacks = "memkeep.llm_fallbacks"
    /// The reasons of a run's LLM fallbacks, most frequent first (`unsupported_claim,timeout`).
    public static let fallbackReason = "memkeep.fallback_reason"
    /// Sources of a consolidation run that met `fate` (`MEMKEEP_FATE_BELOW_FLOOR`, …).
    public static func fate(_ fate: String) -> String { "memkeep.fate_" + fate }
    public static let configGeneration = "memkeep.config_generation"
    public static let sessionID = "session_id"
    public static let agentID = "agent_id"
    public static let messageID = "message_id"
}

/// Fixed journal MESSAGE_IDs of the events an operator cares about; described in
/// `systemd/memkeepd.catalog`.
public enum MessageID {
    public static let jobFinished = "5b8a4f1e0c2d4e6f9a1b3c5d7e9f0a21"
    public static let jobFailed = "c3d2e1f0a9b84c7d8e6f5a4b3c2d1e02"
    public static let sessionOrphaned = "7e1f2a3b4c5d4e6f8a9b0c1d2e3f4a53"
    public static let daemonStarted = "0f3e5a7c9b1d4f2e8a6c4e2b0d9f7a14"
    public static let daemonStopping = "a8c6e4b2d0f94e1c7a5b3d1f9e7c5a35"
    public static let configurationReloaded = "1d4b7e0a3c6f4b9e8d2a5c8f1b4e7a96"
    public static let configurationRejected = "e2a5d8b1f4c74a0d9e3b6f9c2a5d8b17"
    public static let sessionClosedByWebhook = "6b9e2c5f8a1d4e7b9c0f3a6d9b2e5c88"
    public static let storageFull = "f1c4a7d0b3e64f9a8c2e5b8d1f4a7c09"
    public static let connectionLimit = "9d2f5b8e1a4c4d7f0b3e6a9c2f5d8b1a"

    /// Every id, for the catalog.
    public static let all = [
        jobFinished, jobFailed, sessionOrphaned, daemonStarted, daemonStopping, configurationReloaded,
        configurationRejected, sessionClosedByWebhook, storageFull, connectionLimit,
    ]
}
