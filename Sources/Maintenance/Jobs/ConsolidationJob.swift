import Logging
import MemoryStore

/// Folds old sessions into topic summaries, per agent, by the planner's groups.
public enum ConsolidationJob {
    static let agentPage = 200

    /// `model`: the vector space whose vectors group and deduplicate facts; nil (or facts
    /// without one) groups by tags and deduplicates by words.
    public static func run(_ context: JobContext, summarizer: any Summarizer, model: EmbeddingModel?) async throws
        -> JobReport
    {
        var report = JobReport(job: .consolidate)
        var summaries: [String] = []
        var consolidations: [String] = []
        var fates: [SourceFate: Int] = [:]
        var sessionsConsolidated = 0
        let configuration = context.configuration.consolidation
        let planner = ConsolidationPlanner(configuration)
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
                let (sessions, liveCharacters) = try await context.store.unconsolidatedSessions(
                    agentID: agent, liveCharacters: configuration.maxLiveCharacters != nil)
                report.examined += sessions.count
                let groups = planner.plan(
                    sessions, now: context.now, manual: context.agent != nil, liveCharacters: liveCharacters)
                guard !groups.isEmpty else { continue }
                let batch = Batch(agent: agent, context: context, summarizer: summarizer, model: model)
                let later = try await context.store.changeFacts(
                    agentID: agent, since: groups[0][0].startedAt, model: nil, now: context.now)
                for group in groups {
                    guard let result = try await batch.consolidate(group, later: later) else { continue }
                    summaries += result.summaryIDs
                    if !result.sources.isEmpty { consolidations.append(result.consolidationID) }
                    for source in result.sources { fates[source.fate, default: 0] += 1 }
                    sessionsConsolidated += group.count
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
        report.consolidations = consolidations
        report.fates = Dictionary(uniqueKeysWithValues: fates.map { ($0.key.rawValue, $0.value) })
        report.sessionsConsolidated = sessionsConsolidated
        return report
    }

    /// One agent's consolidation of one group of sessions.
    struct Batch {
        let agent: String
        let context: JobContext
        let summarizer: any Summarizer
        let model: EmbeddingModel?

        /// Plans and words the group outside any transaction (a summarizer may be slow), then
        /// commits it in one. nil when another writer changed the group meanwhile: it is left
        /// for the next run.
        func consolidate(_ group: [SessionRef], later: [ConsolidationFact]) async throws -> ConsolidationCommit? {
            let now = context.now
            let ids = group.map(\.id)
            let facts = try await context.store.consolidationFacts(sessionIDs: ids, model: model, now: now)
            let plan = SummaryPlanner(context.configuration.consolidation).plan(facts, later: later)
            let texts = try await summarizer.texts(for: plan)
            let consolidationID = MemoryStore.newID(now: now)
            let summaries = zip(plan.topics, texts).enumerated().map { index, element in
                summary(element.0, text: element.1, index: index, of: plan.topics.count, consolidationID: consolidationID)
            }
            let sources = facts.map { fact in
                let decision = plan.decisions[fact.id]!
                return ConsolidationSource(
                    sourceMemoryID: fact.id, consolidationID: consolidationID,
                    summaryID: decision.topic.map { summaries[$0].id }, sourceSessionID: fact.sessionID,
                    fate: decision.fate, fateRef: decision.ref)
            }
            let commit = ConsolidationCommit(
                consolidationID: consolidationID, sessionIDs: ids, sourceIDs: facts.map(\.id), summaries: summaries,
                sources: sources)
            guard try await context.store.commitConsolidation(commit, now: now, dryRun: context.dryRun) else {
                context.logger.notice(
                    "sessions changed while being consolidated; left for the next run",
                    metadata: [LogKey.agentID: .string(agent)])
                return nil
            }
            return commit
        }

        func summary(_ topic: SummaryPlan.Topic, text: String, index: Int, of count: Int, consolidationID: String) -> Memory {
            Memory(
                id: MemoryStore.newID(now: context.now), agentID: agent, content: text, memoryType: .semantic,
                importance: topic.importance, tags: topic.tags,
                metadata: .object([
                    "consolidation_id": .string(consolidationID),
                    "topic": .number(Double(index + 1)),
                    "topics": .number(Double(count)),
                    "source_sessions": .array(topic.sessionIDs.map(JSONValue.string)),
                    "source_count": .number(Double(topic.sourceIDs.count)),
                    "session_count": .number(Double(topic.sessionIDs.count)),
                    "period_start": .string(TimeFormat.rfc3339(topic.periodStart)),
                    "period_end": .string(TimeFormat.rfc3339(topic.periodEnd)),
                    "summarizer": .string(summarizer.name),
                ]),
                createdAt: context.now)
        }
    }
}

extension ConsolidationCommit {
    var summaryIDs: [String] { summaries.map(\.id) }
}
