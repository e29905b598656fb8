import Hummingbird
import MemoryStore

extension APIHandlers {
    func addSessionRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/v1/sessions/start") { request, context in try await startSession(request, context) }
        routes.on(.post, "/v1/sessions/{id}/touch") { request, context in
            let id = try context.path("id")
            let principal = context.principal
            let touched: Session
            do {
                touched = try await store.touchSession(id: id) { session in
                    try principal.authorize(.write, agent: session.agentID, notFound: APIError.notFound("session \(id)"))
                }
            } catch StoreError.sessionNotFound {
                throw APIError.notFound("session \(id)")
            }
            noteActivity(touched)
            return JSONResponse.make(.object([
                "session": session(touched), "session_state": Representation.sessionState(touched),
                "idle_deadline_at": Representation.seconds(touched.idleDeadlineAt),
            ]))
        }
        routes.on(.post, "/v1/sessions/{id}/end") { request, context in
            let existing = try await visibleSession(try context.path("id"), context: context, scope: .write)
            let body = try await JSONBody.read(request, limit: maxBody, allowEmpty: true)
            let summary = try body.optionalString("summary")
            if let summary, summary.utf8.count > Validation.maxContentBytes {
                throw APIError.invalid("summary", "must be at most \(Validation.maxContentBytes) bytes")
            }
            let ended = try await store.endSession(id: existing.id, reason: .client, summary: summary)
            return JSONResponse.make(.object(["session": session(ended), "session_state": Representation.sessionState(ended)]))
        }
        routes.on(.get, "/v1/sessions/{id}") { _, context in
            let found = try await visibleSession(try context.path("id"), context: context, scope: .read)
            let count = try await store.memoryCounts(sessionIDs: [found.id])[found.id] ?? 0
            return JSONResponse.make(.object(["session": session(found, memoryCount: count)]))
        }
        routes.on(.get, "/v1/sessions") { request, context in
            let query = QueryParameters(request)
            let agent = query.values["agent_id"]
            if let agent { try Validation.agentID(agent) }
            return try await sessionList(
                agent: agent, openOnly: try query.bool("active_only") ?? false,
                limit: try query.int("limit", default: 100, range: 1...1000),
                offset: try query.int("offset", default: 0, range: 0...1_000_000), context: context)
        }
        routes.on(.get, "/v1/sessions/{id}/memories") { request, context in
            let found = try await visibleSession(try context.path("id"), context: context, scope: .read)
            let query = QueryParameters(request)
            let memories = try await store.memories(
                sessionID: found.id, limit: try query.int("limit", default: 50, range: 1...500),
                offset: try query.int("offset", default: 0, range: 0...1_000_000))
            return JSONResponse.make(.object([
                "session_id": .string(found.id), "memories": .array(memories.map(Representation.memory)),
            ]))
        }
    }

    func startSession(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, limit: maxBody)
        let agent = try body.string("agent_id")
        try authorize(.write, agent: agent, context: context)
        let started = try await store.startSession(
            SessionStart(
                id: try chosenID(body, context: context), agentID: agent, idleTimeoutSeconds: try body.optionalInt("idle_timeout_secs"),
                metadata: try body.optionalObject("metadata") ?? .emptyObject))
        noteActivity(started)
        let token = beacons.token(sessionID: started.id, now: dependencies.clock.now())
        guard case .object(var fields) = session(started, memoryCount: 0) else { preconditionFailure() }
        fields["beacon_token"] = .string(token)
        return JSONResponse.make(.object(["session": .object(fields), "beacon_token": .string(token)]), status: .created)
    }

    /// Sessions the caller may see, newest first.
    func sessionList(agent: String?, openOnly: Bool, limit: Int, offset: Int, context: APIRequestContext) async throws
        -> Response
    {
        if let agent, !context.principal.sees(agent: agent) { return JSONResponse.make(.array([])) }
        let sessions = try await store.sessions(
            agentID: agent, visibleTo: context.principal.agents, openOnly: openOnly, limit: limit, offset: offset)
        let counts = try await store.memoryCounts(sessionIDs: sessions.map(\.id))
        return JSONResponse.make(.array(sessions.map { session($0, memoryCount: counts[$0.id] ?? 0) }))
    }
}
