import Hummingbird
import MemoryService
import MemoryStore

extension APIHandlers {
    func addMemoryRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/v1/memory/store") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            return JSONResponse.make(try await service.store(body, principal: context.principal), status: .created)
        }
        routes.on(.post, "/v1/memory/recall") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            return JSONResponse.make(try await service.recall(body, principal: context.principal, logger: context.logger))
        }
        routes.on(.get, "/v1/memory/recall") { request, context in
            let body = try QueryParameters(request).asBody(
                numbers: ["top_k", "min_importance"], booleans: ["include_archived", "include_superseded", "include_summaries"], lists: ["tags"])
            return JSONResponse.make(try await service.recall(body, principal: context.principal, logger: context.logger))
        }
        routes.on(.get, "/v1/memory/get/{id}") { request, context in
            let memory = try await service.visibleMemory(
                try context.path("id"), agent: QueryParameters(request).values["agent_id"], principal: context.principal,
                scope: .read)
            return JSONResponse.make(Representation.memory(memory))
        }
        routes.on(.get, "/v1/memory/{id}/sources") { request, context in
            let memory = try await service.visibleMemory(
                try context.path("id"), agent: QueryParameters(request).values["agent_id"], principal: context.principal,
                scope: .read)
            do {
                return JSONResponse.make(try await store.explain(id: memory.id).json)
            } catch StoreError.notRestorable {
                throw APIError(
                    .notFound, code: "NOT_FOUND",
                    "memory \(memory.id) is neither a consolidation summary nor a consolidated source")
            }
        }
        routes.on(.put, "/v1/memory/update/{id}") { request, context in
            let existing = try await service.visibleMemory(
                try context.path("id"), agent: QueryParameters(request).values["agent_id"], principal: context.principal,
                scope: .write)
            let body = try await JSONBody.read(request, limit: maxBody)
            return JSONResponse.make(try await service.update(existing, body))
        }
        routes.on(.post, "/v1/memory/forget") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            return JSONResponse.make(try await service.forget(body, principal: context.principal))
        }
        routes.on(.post, "/v1/memories/recall/batch") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            if let queries = try body.optionalArray("queries") {
                return JSONResponse.make(
                    try await service.multiRecall(queries, principal: context.principal, logger: context.logger))
            }
            return JSONResponse.make(try await service.filterRecall(body, principal: context.principal))
        }
        routes.on(.post, "/v1/memories/store/batch") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody)
            return JSONResponse.make(try await service.storeBatch(body, principal: context.principal), status: .created)
        }
    }
}
