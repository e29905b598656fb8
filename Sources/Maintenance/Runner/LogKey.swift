import Logging

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
}
