import ArgumentParser
import Foundation
import Maintenance
import MemoryStore

struct ReconsolidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconsolidate",
        abstract: "Redo consolidations under the current policy while their sources are still archived.",
        discussion: """
            Each chosen consolidation is restored (its sources live again, its summaries deleted) and its \
            agent consolidated again, so that facts an earlier release left out (over_cap) come back. One \
            whose sources were already purged (consolidation.archive_retention) stays as it is.
            """)

    @Option(help: "Every consolidation of this agent.")
    var agent: String?

    @Option(help: "One consolidation, by its id or the id of one of its summaries.")
    var consolidation: String?

    @Flag(help: "Every consolidation of every agent.")
    var all = false

    @Flag(help: "List what would be redone, with each consolidation's fates; change nothing.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard [agent != nil, consolidation != nil, all].filter({ $0 }).count == 1 else {
            throw ValidationError("name exactly one of --agent AGENT, --consolidation ID or --all")
        }
        if let agent {
            do { try Validation.agentID(agent, field: "--agent") } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        let clock = SystemClock()
        try await withApp(options, clock: clock, withEmbedder: true) { app in
            let report: ReconsolidationReport
            do {
                report = try await app.runner.reconsolidate(
                    agentID: agent, consolidationID: consolidation, now: clock.now(), dryRun: dryRun)
            } catch let error as StoreError {
                throw dataError(error)
            }
            print(json ? Self.json(report, dryRun: dryRun) : Self.text(report, dryRun: dryRun))
            if report.runs.contains(where: { $0.status == .failed }) { throw Exit.jobFailed }
        }
    }

    static func fates(_ fates: [SourceFate: Int]) -> String {
        fates.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
    }

    static func text(_ report: ReconsolidationReport, dryRun: Bool) -> String {
        var lines: [String] = []
        for entry in report.consolidations {
            let state = entry.undone ? "undone" : (entry.reason.map { "kept as it is: \($0)" } ?? "would be undone")
            lines.append("\(entry.id) (\(entry.agentID)): \(fates(entry.fates)); \(state)")
        }
        if report.consolidations.isEmpty { lines.append("no consolidation to redo") }
        for run in report.runs {
            let fates = (run.fates ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(
                "consolidated again: \(run.status.rawValue), \(run.sessionsConsolidated ?? 0) sessions, "
                    + "\(run.summaries?.count ?? 0) summaries; \(fates)")
        }
        if dryRun { lines.append("dry run: nothing changed") }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: ReconsolidationReport, dryRun: Bool) -> String {
        func counts(_ fates: [SourceFate: Int]) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: fates.map { ($0.key.rawValue, JSONValue.number(Double($0.value))) }))
        }
        let runs = RunReport(now: TimeFormat.rfc3339(SystemClock().now()), dryRun: dryRun, jobs: report.runs).json()
        let value = JSONValue.object([
            "dry_run": .bool(dryRun),
            "consolidations": .array(report.consolidations.map { entry in
                .object([
                    "consolidation_id": .string(entry.id), "agent_id": .string(entry.agentID), "fates": counts(entry.fates),
                    "undone": .bool(entry.undone), "reason": entry.reason.map(JSONValue.string) ?? .null,
                ])
            }),
            "runs": (try? JSONValue.parse(runs))?.objectValue?["jobs"] ?? .array([]),
        ])
        return value.jsonText()
    }
}
