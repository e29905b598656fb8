import Logging
import MemoryStore

/// Folds old sessions into semantic summaries, per agent, by the planner's groups.
public enum ConsolidationJob {
    static let agentPage = 200

    public static func run(_ context: JobContext, summarizer: any Summarizer) async throws -> JobReport {
        var report = JobReport(job: .consolidate)
        var summaries: [String] = []
        var sessionsConsolidated = 0
        let planner = ConsolidationPlanner(context.configuration.consolidation)
        var afterAgent: String?
        var stopped = false
        agents: while !stopped {
            let agents: [String]
            if let manual = context.agent {
                agents = afterAgent == nil ? [manual] : []
            } else {
                agents = try await context.store.agentsWithUnconsolidatedSessions(after: afterAgent, limit: agentPage)
            }
            guard let last = agents.last else { break }
            afterAgent = last
            for agent in agents {
                let sessions = try await context.store.unconsolidatedSessions(agentID: agent)
                report.examined += sessions.count
                for group in planner.plan(sessions, now: context.now, manual: context.agent != nil) {
                    let result = try await consolidate(group, agent: agent, context: context, summarizer: summarizer)
                    if let summary = result.summary { summaries.append(summary) }
                    sessionsConsolidated += result.sessions
                    guard try await context.nextBatchAllowed() else {
                        stopped = true
                        report.complete = false
                        break agents
                    }
                }
            }
        }
        report.changed = sessionsConsolidated
        report.summaries = summaries
        report.sessionsConsolidated = sessionsConsolidated
        return report
    }

    /// Summarizes one group outside any transaction (a summarizer may be slow), then commits it
    /// in one; a group changed meanwhile by another writer is left for the next run.
    static func consolidate(
        _ group: [SessionRef], agent: String, context: JobContext, summarizer: any Summarizer
    ) async throws -> (summary: String?, sessions: Int) {
        let ids = group.map(\.id)
        let sources = try await context.store.consolidationSources(sessionIDs: ids, now: context.now)
        var summary: Memory?
        if !sources.isEmpty {
            let config = context.configuration.consolidation
            summary = Memory(
                id: MemoryStore.newID(now: context.now), agentID: agent,
                content: try await summarizer.summarize(sources), memoryType: .semantic,
                importance: config.summaryImportance, tags: [Memory.summaryTag],
                metadata: .object([
                    "source_sessions": .array(ids.map(JSONValue.string)),
                    "source_count": .number(Double(sources.count)),
                    "session_count": .number(Double(ids.count)),
                    "period": .object([
                        "from": .string(TimeFormat.rfc3339(group.map(\.startedAt).min()!)),
                        "to": .string(TimeFormat.rfc3339(group.map(\.endedAt).max()!)),
                    ]),
                    "summarizer": .string(summarizer.name),
                ]),
                createdAt: context.now)
        }
        let committed = try await context.store.commitConsolidation(
            ConsolidationCommit(sessionIDs: ids, sources: sources, summary: summary), now: context.now,
            dryRun: context.dryRun)
        guard committed else {
            context.logger.notice(
                "sessions changed while being consolidated; left for the next run",
                metadata: [LogKey.agentID: .string(agent)])
            return (nil, 0)
        }
        return (summary?.id, ids.count)
    }
}
