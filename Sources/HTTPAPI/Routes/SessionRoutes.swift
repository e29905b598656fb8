import Hummingbird
import MemoryService
import MemoryStore

extension APIHandlers {
    func addSessionRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/v1/sessions/start") { request, context in try await startSession(request, context) }
        routes.on(.post, "/v1/sessions/{id}/touch") { request, context in
            let id = try context.path("id")
            let principal = context.principal
            // The scope first, so that the agent check can be part of the store's one write.
            try principal.authorize(.write, agent: nil, notFound: APIError.notFound("session \(id)"))
            let touched: Session
            do {
                touched = try await store.touchSession(id: id, visibleTo: principal.agents)
            } catch StoreError.sessionNotFound {
                throw APIError.notFound("session \(id)")
            }
            service.noteActivity(touched)
            return JSONResponse.make(.object([
                "session": service.session(touched), "session_state": Representation.sessionState(touched),
                "idle_deadline_at": Representation.seconds(touched.idleDeadlineAt),
            ]))
        }
        routes.on(.post, "/v1/sessions/{id}/end") { request, context in
            let existing = try await service.visibleSession(try context.path("id"), principal: context.principal, scope: .write)
            let body = try await JSONBody.read(request, limit: maxBody, allowEmpty: true)
            return JSONResponse.make(try await service.endSession(existing, body))
        }
        routes.on(.get, "/v1/sessions/{id}") { _, context in
            let found = try await service.visibleSession(try context.path("id"), principal: context.principal, scope: .read)
            let count = try await store.memoryCounts(sessionIDs: [found.id])[found.id] ?? 0
            return JSONResponse.make(.object(["session": service.session(found, memoryCount: count)]))
        }
        routes.on(.get, "/v1/sessions") { request, context in
            let query = QueryParameters(request)
            return JSONResponse.make(
                try await service.sessionList(
                    agent: query.values["agent_id"], openOnly: try query.bool("active_only") ?? false,
                    limit: try query.int("limit", default: 100, range: 1...1000),
                    offset: try query.int("offset", default: 0, range: 0...1_000_000), principal: context.principal))
        }
        routes.on(.get, "/v1/sessions/{id}/memories") { request, context in
            let found = try await service.visibleSession(try context.path("id"), principal: context.principal, scope: .read)
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
        let started = try await service.startSession(body, principal: context.principal)
        let token = beacons.token(sessionID: started.id, now: dependencies.clock.now())
        guard case .object(var fields) = service.session(started, memoryCount: 0) else { preconditionFailure() }
        fields["beacon_token"] = .string(token)
        return JSONResponse.make(.object(["session": .object(fields), "beacon_token": .string(token)]), status: .created)
    }
}
