import Logging
import MemoryStore

/// Folds old sessions into topic summaries, per agent, by the planner's groups. It works a page
/// of agents at a time, and writes the groups of several agents in one transaction, reading their
/// facts and the change statements that can supersede them in one query each: per-agent round
/// trips, not the planning, were the cost.
public enum ConsolidationJob {
    static let agentPage = 200
    /// Groups are written together until they hold this many sessions (a group is never split):
    /// a few hundred sources, a transaction of a few milliseconds.
    static let sessionsPerTransaction = 60

    /// `ledger` takes what the summarizer's model calls cost.
    public static func run(
        _ context: JobContext, summarizer: any Summarizer, model: EmbeddingModel?, ledger: SpendLedger
    ) async throws -> JobReport {
        var report = JobReport(job: .consolidate)
        var tally = Tally()
        let configuration = context.configuration.consolidation
        let planner = ConsolidationPlanner(configuration)
        let batch = Batch(context: context, summarizer: summarizer, model: model, ledger: ledger)
        /// Writes prepared consolidations; false when the run must stop (budget, shutdown).
        func write(_ prepared: [Prepared]) async throws -> Bool {
            let written = try await batch.write(prepared)
            tally.add(written)
            context.progressed(written.reduce(0) { $0 + $1.commit.sessionIDs.count })
            guard try await context.nextBatchAllowed() else {
                report.complete = false
                return false
            }
            return true
        }
        var afterAgent: String?
        agents: while true {
            let agents: [String]
            if let manual = context.agent {
                agents = afterAgent == nil ? [manual] : []
            } else {
                agents = try await context.store.agentsWithUnconsolidatedSessions(after: afterAgent, limit: agentPage)
            }
            guard let last = agents.last else { break }
            afterAgent = last
            let sessions = try await context.store.unconsolidatedSessions(
                agentIDs: agents, liveCharacters: configuration.maxLiveCharacters != nil)
            var groups: [Group] = []
            for agent in agents {
                guard let (agentSessions, liveCharacters) = sessions[agent] else { continue }
                report.examined += agentSessions.count
                groups += planner.plan(
                    agentSessions, now: context.now, manual: context.agent != nil, liveCharacters: liveCharacters
                ).map { Group(agent: agent, sessions: $0) }
            }
            // The page's change statements, read before any of its writes: the plans do not
            // depend on which groups are already written.
            let statements = try await context.store.changeFacts(
                agentIDs: Array(Set(groups.map(\.agent))), words: Supersession.triggerWords,
                since: groups.flatMap(\.sessions).map(\.startedAt).min() ?? 0, now: context.now)
            let changes = Dictionary(grouping: statements, by: \.agentID).mapValues {
                ChangeIndex($0, minImportance: configuration.minFactImportance)
            }
            // Reading and planning the next chunk overlaps writing this one: the write is on the
            // store's writer queue, the planning on another core.
            var prepared: [Prepared]?
            for chunk in Self.chunks(groups) {
                async let next = batch.prepare(chunk, changes: changes)
                if let ready = prepared, try await !write(ready) {
                    _ = try? await next
                    break agents
                }
                prepared = try await next
            }
            if let ready = prepared, try await !write(ready) { break agents }
        }
        report.changed = tally.sessions
        report.summaries = tally.summaries
        report.consolidations = tally.consolidations
        report.fates = Dictionary(uniqueKeysWithValues: tally.fates.map { ($0.key.rawValue, $0.value) })
        report.sessionsConsolidated = tally.sessions
        if context.dryRun { report.previews = tally.previews }
        report.recordLLM(ledger.run, fallbacks: tally.llmFallbacks)
        return report
    }

    /// One agent's sessions to consolidate together.
    struct Group {
        var agent: String
        var sessions: [SessionRef]
    }

    /// Consecutive groups of at most `sessionsPerTransaction` sessions (a larger group alone).
    static func chunks(_ groups: [Group]) -> [[Group]] {
        var chunks: [[Group]] = []
        var size = 0
        for group in groups {
            if chunks.isEmpty || size + group.sessions.count > sessionsPerTransaction {
                chunks.append([])
                size = 0
            }
            chunks[chunks.count - 1].append(group)
            size += group.sessions.count
        }
        return chunks
    }

    /// A consolidation ready to write, with what wording it cost.
    struct Prepared {
        var commit: ConsolidationCommit
        var texts: SummaryTexts
    }

    struct Tally {
        var summaries: [String] = []
        var consolidations: [String] = []
        var fates: [SourceFate: Int] = [:]
        var sessions = 0
        var llmFallbacks: [String: Int] = [:]
        var previews: [JobReport.Preview] = []

        mutating func add(_ prepared: [Prepared]) {
            for (commit, texts) in prepared.map({ ($0.commit, $0.texts) }) {
                previews += texts.topics.map {
                    JobReport.Preview(agentID: commit.agentID, text: $0.text, writer: $0.writer, fallback: $0.fallback)
                }
                for reason in texts.topics.compactMap(\.fallbackReason) { llmFallbacks[reason, default: 0] += 1 }
                summaries += commit.summaries.map(\.id)
                if !commit.sources.isEmpty { consolidations.append(commit.consolidationID) }
                for source in commit.sources { fates[source.fate, default: 0] += 1 }
                sessions += commit.sessionIDs.count
            }
        }
    }

    struct Batch: Sendable {
        let context: JobContext
        let summarizer: any Summarizer
        let model: EmbeddingModel?
        let ledger: SpendLedger

        /// Reads, plans and words each group outside any transaction (a summarizer may be slow),
        /// `summarizer.concurrency` groups at a time.
        func prepare(_ groups: [Group], changes: [String: ChangeIndex]) async throws -> [Prepared] {
            let now = context.now
            let sessionIDs = groups.flatMap { $0.sessions.map(\.id) }
            let facts = Dictionary(
                grouping: try await context.store.consolidationFacts(sessionIDs: sessionIDs, model: model, now: now),
                by: { $0.sessionID ?? "" })
            let width = max(1, summarizer.concurrency)
            return try await withThrowingTaskGroup(of: (Int, Prepared).self) { tasks in
                var commits: [Prepared?] = Array(repeating: nil, count: groups.count)
                for (position, group) in groups.enumerated() {
                    if position >= width, let (done, prepared) = try await tasks.next() { commits[done] = prepared }
                    let groupFacts = group.sessions.flatMap { facts[$0.id] ?? [] }
                        .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
                    let index =
                        changes[group.agent] ?? ChangeIndex(minImportance: context.configuration.consolidation.minFactImportance)
                    tasks.addTask { (position, try await commit(group, facts: groupFacts, changes: index)) }
                }
                for try await (done, prepared) in tasks { commits[done] = prepared }
                return commits.map { $0! }
            }
        }

        /// Commits prepared consolidations, in as many transactions as `jobs.max_batch_time`
        /// needs. Returns those written; one whose sessions another writer changed meanwhile is
        /// left for the next run.
        func write(_ prepared: [Prepared]) async throws -> [Prepared] {
            var done: [Prepared] = []
            var rest = prepared[...]
            while !rest.isEmpty {
                // A run cancelled while its batch was being worded (its timeout) writes nothing more.
                try Task.checkCancellation()
                let written = try await context.store.commitConsolidations(
                    rest.map(\.commit), now: context.now, dryRun: context.dryRun, bound: context.batchBound)
                for (item, ok) in zip(rest, written) {
                    if ok {
                        done.append(item)
                    } else {
                        context.logger.notice(
                            "sessions changed while being consolidated; left for the next run",
                            metadata: [LogKey.agentID: .string(item.commit.agentID)])
                    }
                }
                rest = rest.dropFirst(written.count)
            }
            return done
        }

        func commit(_ group: Group, facts: [ConsolidationFact], changes: ChangeIndex) async throws -> Prepared {
            let plan = SummaryPlanner(context.configuration.consolidation).plan(facts, changes: changes)
            let texts = try await summarizer.write(
                plan, facts: Dictionary(uniqueKeysWithValues: facts.map { ($0.id, $0) }), ledger: ledger)
            let consolidationID = MemoryStore.newID(now: context.now)
            let summaries = zip(plan.topics, texts.topics).enumerated().map { index, element in
                summary(
                    element.0, text: element.1, agent: group.agent, index: index, of: plan.topics.count,
                    consolidationID: consolidationID)
            }
            let sources = facts.map { fact in
                let decision = plan.decisions[fact.id]!
                return ConsolidationSource(
                    sourceMemoryID: fact.id, consolidationID: consolidationID,
                    summaryID: decision.topic.map { summaries[$0].id }, sourceSessionID: fact.sessionID,
                    fate: decision.fate, fateRef: decision.ref)
            }
            let commit = ConsolidationCommit(
                consolidationID: consolidationID, agentID: group.agent, sessionIDs: group.sessions.map(\.id),
                sourceIDs: facts.map(\.id), summaries: summaries, sources: sources)
            return Prepared(commit: commit, texts: texts)
        }

        func summary(
            _ topic: SummaryPlan.Topic, text: SummaryTexts.Topic, agent: String, index: Int, of count: Int,
            consolidationID: String
        ) -> Memory {
            var metadata: [String: JSONValue] = [
                "consolidation_id": .string(consolidationID),
                "topic": .number(Double(index + 1)),
                "topics": .number(Double(count)),
                "source_sessions": .array(topic.sessionIDs.map(JSONValue.string)),
                "source_count": .number(Double(topic.sourceIDs.count)),
                "session_count": .number(Double(topic.sessionIDs.count)),
                "period_start": .string(TimeFormat.rfc3339(topic.periodStart)),
                "period_end": .string(TimeFormat.rfc3339(topic.periodEnd)),
                "summarizer": .string(text.writer),
            ]
            if let version = text.promptVersion { metadata["prompt_version"] = .string(version) }
            if let fallback = text.fallback { metadata["llm_fallback"] = .string(fallback) }
            return Memory(
                id: MemoryStore.newID(now: context.now), agentID: agent, content: text.text, memoryType: .semantic,
                importance: topic.importance, tags: topic.tags, metadata: .object(metadata), createdAt: context.now)
        }
    }
}
