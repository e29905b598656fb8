import ArgumentParser
import Foundation
import Maintenance
import MemoryStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run maintenance jobs once and print a report.")

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case orphans, consolidate, decay, purge, embed, all

        var jobs: [JobName] {
            switch self {
            case .all: JobName.allCases
            default: [JobName(rawValue: rawValue)!]
            }
        }
    }

    @Argument(help: "orphans, consolidate, decay, purge, embed or all (embed only with an embedding model).")
    var target: Target = .all

    @Flag(help: "Report what would change; change nothing.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "Run as if it were this time (RFC 3339, e.g. 2026-06-01T00:00:00Z).")
    var now: String?

    @Option(help: "Consolidate this agent's ended sessions now, whatever the thresholds.")
    var agent: String?

    @Flag(help: "Run each job again until it has nothing left, instead of stopping at its time budget.")
    var untilDone = false

    @OptionGroup var options: GlobalOptions

    func validate() throws {
        if let now, TimeFormat.parseRFC3339(now) == nil {
            throw ValidationError("--now must be an RFC 3339 time such as 2026-06-01T00:00:00Z, not '\(now)'")
        }
        if let agent {
            do { try Validation.agentID(agent, field: "--agent") } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        let clock: any WallClock = now.flatMap(TimeFormat.parseRFC3339).map { ManualClock($0) } ?? SystemClock()
        // Consolidation groups and deduplicates by the model's vectors, so it needs the model's id.
        try await withApp(options, clock: clock, withEmbedder: target != .orphans && target != .decay && target != .purge) { app in
            let runNow = clock.now()
            var reports: [JobReport] = []
            for job in target.jobs where job != .embed || target == .embed || app.runner.embedder != nil {
                let progress = Progress(
                    label: "\(job.rawValue): rows", total: Progress.isShown ? try await backlog(job, app: app, now: runNow) : 0)
                var report = await app.runner.run(
                    job, trigger: .once, now: runNow, dryRun: dryRun, agent: agent, progress: progress.advance(by:))
                // A dry run changes nothing, so running it again would find the same work.
                while untilDone, !dryRun, report.status == .ok, !report.complete {
                    let next = await app.runner.run(
                        job, trigger: .once, now: runNow, dryRun: dryRun, agent: agent, progress: progress.advance(by:))
                    report.absorb(next)
                }
                if report.status == .ok, !report.complete { report.left = try await backlog(job, app: app, now: runNow) }
                progress.finish()
                reports.append(report)
            }
            let report = RunReport(now: TimeFormat.rfc3339(runNow), dryRun: dryRun, jobs: reports)
            print(json ? report.json() : report.table())
            if reports.contains(where: { $0.status == .failed }) { throw Exit.jobFailed }
            if target != .all, reports.contains(where: { $0.status == .skipped }) { throw Exit.leaseHeld }
        }
    }
}

extension RunCommand {
    /// About how many rows `job` will handle, for the progress line's total and time left (on a
    /// terminal) and for what a run stopped at its budget left: the store's counts, which bound
    /// the job's work.
    func backlog(_ job: JobName, app: App, now: UnixMillis) async throws -> Int {
        switch job {
        case .orphans: return try await app.store.sessionsPastDeadline(now: now)
        case .embed:
            guard let model = app.runner.embedder?.vectorModel else { return 0 }
            return try await app.store.embeddingBacklog(model: model).total
        case .consolidate: return try await app.store.counts(now: now).unconsolidatedSessions
        case .decay:
            let counts = try await app.store.counts(now: now)
            return counts.liveMemories + counts.archivedMemories
        case .purge: return try await app.store.counts(now: now).expiredMemories
        }
    }
}

struct RunReport: Codable {
    var now: String
    var dryRun: Bool
    var jobs: [JobReport]

    enum CodingKeys: String, CodingKey {
        case now
        case dryRun = "dry_run"
        case jobs
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    func table() -> String {
        var lines = ["memkeepd run at \(now)\(dryRun ? " (dry run: nothing changed)" : "")"]
        let header = ["job", "status", "examined", "changed", "ms", "details"]
        var rows = [header]
        for job in jobs {
            rows.append([
                job.job.rawValue, job.status.rawValue + (job.complete ? "" : " (budget reached)"),
                "\(job.examined)", "\(job.changed)", String(format: "%.1f", job.durationMs), details(job),
            ])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            lines.append(
                zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for job in jobs where !job.complete && job.status == .ok {
            lines.append(
                "\(job.job.rawValue) stopped at its time budget with about \(job.left ?? 0) rows left: "
                    + "run it again, or with --until-done to run to the end")
        }
        for preview in jobs.flatMap({ $0.previews ?? [] }) {
            lines.append("")
            lines.append(
                "summary of \(preview.agentID), written by \(preview.writer)"
                    + (preview.fallback.map { " (the LLM's text fell back: \($0))" } ?? "") + ":")
            lines.append(preview.text)
        }
        return lines.joined(separator: "\n")
    }

    func details(_ job: JobReport) -> String {
        if let error = job.error { return "error: \(error)" }
        if let holder = job.heldBy { return "lease held by \(holder)" }
        switch job.job {
        case .orphans: return "closed \(job.closedSessions?.count ?? 0) sessions"
        case .consolidate:
            let fates = (job.fates ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "\(job.sessionsConsolidated ?? 0) sessions into \(job.summaries?.count ?? 0) summaries"
                + (fates.isEmpty ? "" : "; sources: " + fates.joined(separator: ", "))
        case .decay: return "decayed \(job.decayed ?? 0), archived \(job.archived ?? 0)"
        case .purge: return "deleted \(job.deletedMemories ?? 0) expired, \(job.deletedArchived ?? 0) archived"
        case .embed: return "embedded \(job.embedded ?? 0) memories"
        }
    }
}
