import MemoryStore

/// The wire shapes of sessions and memories: Dakera's field names, times in Unix seconds.
public enum Representation {
    public static func seconds(_ millis: UnixMillis?) -> JSONValue {
        millis.map { .number(Double($0 / 1000)) } ?? .null
    }

    public static func string(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    public static func session(_ session: Session, defaultIdleTimeout: Int64, memoryCount: Int? = nil) -> JSONValue {
        .object([
            "id": .string(session.id), "agent_id": .string(session.agentID),
            "started_at": seconds(session.startedAt), "ended_at": seconds(session.endedAt),
            "last_activity_at": seconds(session.lastActivityAt),
            "ended_reason": string(session.endedReason?.rawValue), "idle_since": seconds(session.idleSince),
            "idle_timeout_secs": .number(Double(session.idleTimeoutSeconds ?? defaultIdleTimeout)),
            "idle_deadline_at": seconds(session.idleDeadlineAt), "summary": string(session.summary),
            "metadata": session.metadata, "memory_count": memoryCount.map { .number(Double($0)) } ?? .null,
        ])
    }

    public static func sessionState(_ session: Session) -> JSONValue {
        .string(session.isOpen ? "active" : "ended")
    }

    public static func memory(_ memory: Memory) -> JSONValue {
        .object([
            "id": .string(memory.id), "agent_id": .string(memory.agentID), "session_id": string(memory.sessionID),
            "content": .string(memory.content), "memory_type": .string(memory.memoryType.rawValue),
            "importance": .number(memory.importance), "tags": .array(memory.tags.map(JSONValue.string)),
            "metadata": memory.metadata, "created_at": seconds(memory.createdAt), "updated_at": seconds(memory.updatedAt),
            "last_accessed_at": seconds(memory.lastAccessedAt), "access_count": .number(Double(memory.accessCount)),
            "expires_at": seconds(memory.expiresAt), "archived": .bool(memory.archivedAt != nil),
            "archived_reason": string(memory.archivedReason?.rawValue), "superseded_by": string(memory.supersededBy),
        ])
    }
}
