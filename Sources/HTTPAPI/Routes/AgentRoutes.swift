import Foundation
import Hummingbird
import MemoryService
import MemoryStore

extension APIHandlers {
    func addAgentRoutes(to routes: RouteRegistrar) {
        routes.on(.get, "/v1/agents") { _, context in
            let agents = try await store.agents().filter { context.principal.sees(agent: $0.agentID) }
            return JSONResponse.make(.array(agents.map { agent in
                .object([
                    "agent_id": .string(agent.agentID), "memory_count": .number(Double(agent.memoryCount)),
                    "session_count": .number(Double(agent.sessionCount)),
                    "active_sessions": .number(Double(agent.activeSessions)),
                ])
            }))
        }
        routes.on(.get, "/v1/agents/{id}/stats") { _, context in
            let agent = try context.path("id")
            try Validation.agentID(agent)
            try context.principal.authorize(.read, agent: agent, notFound: APIError.notFound("agent \(agent)"))
            guard let stats = try await store.agentStats(agentID: agent) else { throw APIError.notFound("agent \(agent)") }
            return JSONResponse.make(.object([
                "agent_id": .string(agent), "total_memories": .number(Double(stats.totalMemories)),
                "archived_memories": .number(Double(stats.archivedMemories)),
                "memories_by_type": .object(stats.memoriesByType.mapValues { .number(Double($0)) }),
                "total_sessions": .number(Double(stats.totalSessions)), "active_sessions": .number(Double(stats.activeSessions)),
                "avg_importance": stats.averageImportance.map(JSONValue.number) ?? .null,
                "oldest_memory_at": Representation.seconds(stats.oldestMemoryAt),
                "newest_memory_at": Representation.seconds(stats.newestMemoryAt),
            ]))
        }
        routes.on(.get, "/v1/agents/{id}/sessions") { request, context in
            let agent = try context.path("id")
            try Validation.agentID(agent)
            try context.principal.authorize(.read, agent: agent, notFound: APIError.notFound("agent \(agent)"))
            let query = QueryParameters(request)
            return JSONResponse.make(
                try await service.sessionList(
                    agent: agent, openOnly: try query.bool("active_only") ?? false,
                    limit: try query.int("limit", default: 100, range: 1...1000), offset: 0, principal: context.principal))
        }
        routes.on(.get, "/v1/agents/{id}/context") { request, context in
            let body = try QueryParameters(request).asBody(
                numbers: ["budget_tokens", "min_importance"], booleans: [], lists: ["include"])
            return JSONResponse.make(
                try await service.context(
                    agent: try context.path("id"), body, principal: context.principal, logger: context.logger))
        }
        routes.on(.post, "/v1/agents/{id}/context") { request, context in
            let body = try await JSONBody.read(request, limit: maxBody, allowEmpty: true)
            return JSONResponse.make(
                try await service.context(
                    agent: try context.path("id"), body, principal: context.principal, logger: context.logger))
        }
        routes.on(.post, "/v1/agents/{id}/consolidate") { _, context in
            let agent = try context.path("id")
            try service.authorize(.write, agent: agent, principal: context.principal)
            let run = await dependencies.maintenance.runNow(job: "consolidate", dryRun: false, agent: agent)
            return try jobAnswer(run, extra: [
                "agent_id": .string(agent), "sessions_consolidated": run.report["sessions_consolidated"] ?? .number(0),
                "summaries": run.report["summaries"] ?? .array([]),
            ])
        }
    }

    /// A job run as an answer: 200 with its report, 409 when another process holds the job,
    /// 500 when it failed.
    func jobAnswer(_ run: MaintenanceRun, extra: [String: JSONValue] = [:]) throws -> Response {
        switch run.outcome {
        case .heldElsewhere(let holder):
            throw APIError(.conflict, code: "CONFLICT", "job \(run.job) is running in another process (\(holder)); retry later")
        case .failed(let error):
            throw APIError(.internalServerError, code: "INTERNAL_ERROR", "job \(run.job) failed: \(error)")
        case .ok:
            return JSONResponse.make(.object(run.report.merging(extra) { $1 }))
        }
    }
}
