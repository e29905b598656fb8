import MemoryStore

/// What `reconsolidate` did, or would do in a dry run.
public struct ReconsolidationReport: Sendable {
    public struct Consolidation: Sendable {
        public var id: String
        public var agentID: String
        /// Its sources' fates as it wrote them: `over_cap` counts the facts it had left out.
        public var fates: [SourceFate: Int]
        /// Whether it was undone; false in a dry run, or when it could not be (`reason`).
        public var undone: Bool
        public var reason: String?
    }

    public var consolidations: [Consolidation]
    /// The consolidation runs of the agents whose consolidations were undone.
    public var runs: [JobReport]
}

extension JobRunner {
    /// Redoes consolidations under the current policy while their sources are still archived:
    /// each is restored (its sources live again, its summaries deleted), then each of their
    /// agents is consolidated again, so that stores consolidated under an older policy (facts
    /// left out `over_cap`) get their facts back. `consolidationID` names one (or a summary of
    /// one), else every consolidation of `agentID`, else every one. One whose sources were
    /// already purged stays as it is, with the reason. A dry run only reports what it would undo.
    public func reconsolidate(agentID: String?, consolidationID: String?, now: UnixMillis, dryRun: Bool) async throws
        -> ReconsolidationReport
    {
        var chosen = try await store.consolidations(agentID: agentID)
        if let consolidationID {
            let named = try await store.explain(id: consolidationID).consolidationID
            chosen = chosen.filter { $0.id == named }
        }
        var report = ReconsolidationReport(consolidations: [], runs: [])
        var agents: [String] = []
        for (id, agent) in chosen {
            let fates = try await store.explain(id: id).fateCounts
            var entry = ReconsolidationReport.Consolidation(id: id, agentID: agent, fates: fates, undone: false)
            if !dryRun {
                do {
                    _ = try await store.restore(id: id)
                    entry.undone = true
                    if !agents.contains(agent) { agents.append(agent) }
                } catch let error as StoreError {
                    entry.reason = error.description
                }
            }
            report.consolidations.append(entry)
        }
        for agent in agents {
            report.runs.append(await run(.consolidate, trigger: .once, now: now, dryRun: false, agent: agent))
        }
        return report
    }
}
