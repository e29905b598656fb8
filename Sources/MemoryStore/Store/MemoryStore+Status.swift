import GRDB

public struct StoreCounts: Sendable, Equatable, Codable {
    public var openSessions: Int
    public var endedSessions: Int
    public var unconsolidatedSessions: Int
    public var liveMemories: Int
    public var archivedMemories: Int
    /// Expired but not yet purged: invisible already.
    public var expiredMemories: Int
    public var nextIdleDeadline: UnixMillis?
    public var nextExpiry: UnixMillis?

    enum CodingKeys: String, CodingKey {
        case openSessions = "open_sessions"
        case endedSessions = "ended_sessions"
        case unconsolidatedSessions = "unconsolidated_sessions"
        case liveMemories = "live_memories"
        case archivedMemories = "archived_memories"
        case expiredMemories = "expired_memories"
        case nextIdleDeadline = "next_idle_deadline"
        case nextExpiry = "next_expiry"
    }
}

extension MemoryStore {
    public func counts(now: UnixMillis) async throws -> StoreCounts {
        if case .postgres(let postgres) = engine { return try await postgres.counts(now: now) }
        return try await read { db in
            func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
                try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            }
            let expired = try count("SELECT count(*) FROM memories WHERE expires_at <= ?", [now])
            let archivedVisible = try count(
                "SELECT count(*) FROM memories WHERE archived_at IS NOT NULL AND (expires_at IS NULL OR expires_at > ?)",
                [now])
            let total = try count("SELECT count(*) FROM memories")
            return StoreCounts(
                openSessions: try count("SELECT count(*) FROM sessions WHERE ended_at IS NULL"),
                endedSessions: try count("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL"),
                unconsolidatedSessions: try count(
                    "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL AND consolidated_at IS NULL"),
                liveMemories: total - expired - archivedVisible,
                archivedMemories: archivedVisible,
                expiredMemories: expired,
                nextIdleDeadline: try Self.fetchNextIdleDeadline(db),
                nextExpiry: try UnixMillis.fetchOne(
                    db, sql: "SELECT min(expires_at) FROM memories WHERE expires_at > ?", arguments: [now]))
        }
    }
}
