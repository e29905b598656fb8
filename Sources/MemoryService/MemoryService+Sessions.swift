import MemoryStore

extension MemoryService {
    /// Starts a session for an agent.
    public func startSession(_ body: JSONBody, principal: Principal) async throws -> Session {
        let agent = try body.string("agent_id")
        try authorize(.write, agent: agent, principal: principal)
        let started = try await store.startSession(
            SessionStart(
                id: try chosenID(body, principal: principal), agentID: agent,
                idleTimeoutSeconds: try body.optionalInt("idle_timeout_secs"),
                metadata: try body.optionalObject("metadata") ?? .emptyObject))
        noteActivity(started)
        return started
    }

    /// Ends a session the caller may write to (`visibleSession` with `.write`), with an optional
    /// summary: `{session, session_state}`.
    public func endSession(_ existing: Session, _ body: JSONBody) async throws -> JSONValue {
        let summary = try body.optionalString("summary")
        if let summary, summary.utf8.count > Validation.maxContentBytes {
            throw APIError.invalid("summary", "must be at most \(Validation.maxContentBytes) bytes")
        }
        let ended = try await store.endSession(id: existing.id, reason: .client, summary: summary)
        return .object(["session": session(ended), "session_state": Representation.sessionState(ended)])
    }

    /// Sessions the caller may see, newest first.
    public func sessionList(agent: String?, openOnly: Bool, limit: Int, offset: Int, principal: Principal) async throws
        -> JSONValue
    {
        if let agent {
            try Validation.agentID(agent)
            guard principal.sees(agent: agent) else { return .array([]) }
        }
        let sessions = try await store.sessions(
            agentID: agent, visibleTo: principal.agents, openOnly: openOnly, limit: limit, offset: offset)
        let counts = try await store.memoryCounts(sessionIDs: sessions.map(\.id))
        return .array(sessions.map { session($0, memoryCount: counts[$0.id] ?? 0) })
    }
}
