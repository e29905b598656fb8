import Hummingbird
import MemoryService
import MemoryStore

extension APIHandlers {
    func addAdminRoutes(to routes: RouteRegistrar) {
        routes.on(.get, "/v1/admin/jobs") { _, context in
            try context.principal.authorize(.admin, agent: nil, notFound: APIError.notFound("route"))
            let runs = try await store.lastJobRuns()
            var jobs: [JSONValue] = []
            for job in dependencies.maintenance.jobNames {
                let run = runs.first { $0.job == job }
                let holder = try await store.leaseHolder(job: job, now: SystemClock().now())
                jobs.append(.object([
                    "job": .string(job), "lease_holder": Representation.string(holder),
                    "last_run": run.map { run in
                        .object([
                            "id": .number(Double(run.id)), "status": .string(run.status), "trigger": .string(run.trigger),
                            "started_at": Representation.seconds(run.startedAt), "finished_at": Representation.seconds(run.finishedAt),
                            "examined": .number(Double(run.examined)), "changed": .number(Double(run.changed)),
                            "complete": .bool(run.complete), "dry_run": .bool(run.dryRun), "error": Representation.string(run.error),
                        ])
                    } ?? .null,
                ]))
            }
            return JSONResponse.make(.object(["jobs": .array(jobs), "scheduler": .string(dependencies.maintenance.statusLine)]))
        }
        routes.on(.post, "/v1/admin/jobs/{job}/run") { request, context in
            try context.principal.authorize(.admin, agent: nil, notFound: APIError.notFound("route"))
            let name = try context.path("job")
            let jobs = dependencies.maintenance.jobNames
            guard jobs.contains(name) else {
                throw APIError(.notFound, code: "JOB_NOT_FOUND", "no job \(name): \(jobs.joined(separator: ", "))")
            }
            let body = try await JSONBody.read(request, limit: maxBody, allowEmpty: true)
            let bodyDryRun = try body.optionalBool("dry_run")
            let dryRun = try QueryParameters(request).bool("dry_run") ?? bodyDryRun ?? false
            let agent = try body.optionalString("agent_id")
            if let agent { try Validation.agentID(agent) }
            return try jobAnswer(await dependencies.maintenance.runNow(job: name, dryRun: dryRun, agent: agent))
        }
    }
}
