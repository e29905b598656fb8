import MemoryStore

/// Lowers importance: archived memories always, live ones of the types that have a policy.
public enum DecayJob {
    public static func run(_ context: JobContext) async throws -> JobReport {
        var report = JobReport(job: .decay)
        var decayed = 0
        var archived = 0
        let config = context.configuration.decay
        var scopes: [(DecayScope, DecayPlanner)] = MemoryType.allCases.compactMap { type in
            config.policies[type].map { (.live(type), DecayPlanner(policy: $0, archiveBelow: config.archiveBelow)) }
        }
        scopes.append((.archived, DecayPlanner(policy: config.archived, archiveBelow: nil)))
        let now = context.now
        for (scope, planner) in scopes where report.complete {
            report.complete = try await context.forEachBatch { cursor in
                let batch = try await context.store.decayBatch(
                    scope: scope, after: cursor, limit: config.batchSize, now: now, dryRun: context.dryRun,
                    bound: context.batchBound
                ) { planner.decide($0, now: now) }
                report.examined += batch.examined
                context.progressed(batch.examined)
                decayed += batch.decayed
                archived += batch.archived
                return batch.next
            }
        }
        report.changed = decayed
        report.decayed = decayed
        report.archived = archived
        return report
    }
}
