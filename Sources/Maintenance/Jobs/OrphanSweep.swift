import Logging
import MemoryStore

/// Ends open sessions whose idle deadline has passed: reason `idle`, `idle_since` = last activity.
public enum OrphanSweep {
    public static func run(_ context: JobContext) async throws -> JobReport {
        var report = JobReport(job: .orphans)
        var closed: [String] = []
        report.complete = try await context.forEachBatch { cursor in
            let batch = try await context.store.closeOrphans(
                now: context.now, after: cursor, limit: context.configuration.orphans.batchSize,
                dryRun: context.dryRun, bound: context.batchBound)
            for session in batch.closed {
                closed.append(session.id)
                context.logger.info(
                    "session closed as orphan",
                    metadata: [
                        LogKey.messageID: .string(MessageID.sessionOrphaned),
                        LogKey.sessionID: .string(session.id), LogKey.agentID: .string(session.agentID),
                        LogKey.idleSeconds: .stringConvertible((context.now - session.idleSince) / 1000),
                        LogKey.dryRun: .stringConvertible(context.dryRun),
                    ])
            }
            report.examined += batch.closed.count
            context.progressed(batch.closed.count)
            return batch.next
        }
        report.changed = closed.count
        report.closedSessions = closed
        return report
    }
}
