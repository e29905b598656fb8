import ArgumentParser
import Foundation
import Maintenance
import MemoryService
import MemoryStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the last run of each job and the store's counts.")

    @Flag(help: "Print as JSON.")
    var json = false

    @OptionGroup var options: GlobalOptions

    struct Report: Codable {
        var store: String
        var now: String
        var counts: StoreCounts
        /// Which recall a daemon on this configuration serves.
        var recall: RecallMode
        var llm: LLMSpend?
        var lastRuns: [Run]

        /// Today's LLM spend (UTC day, every process sharing the store) against the budgets.
        struct LLMSpend: Codable {
            var day: String
            var usage: LLMUsage
            var maxTokensPerDay: Int?
            var maxTokensPerRun: Int?

            enum CodingKeys: String, CodingKey {
                case day, usage
                case maxTokensPerDay = "max_tokens_per_day"
                case maxTokensPerRun = "max_tokens_per_run"
            }

            var line: String {
                let budget = maxTokensPerDay.map { limit in
                    " of \(limit) (\(String(format: "%.1f", Double(usage.tokens) * 100 / Double(limit))) %)"
                } ?? " (no daily limit)"
                return "\(usage.tokens) tokens\(budget) today (\(day) UTC) in \(usage.calls) calls: "
                    + "\(usage.promptTokens) prompt, \(usage.completionTokens) completion; per run "
                    + (maxTokensPerRun.map { "at most \($0)" } ?? "no limit")
            }
        }

        struct Run: Codable {
            var job: String
            var status: String
            var trigger: String
            var startedAt: String
            var durationMs: Double?
            var examined: Int64
            var changed: Int64
            var complete: Bool
            var dryRun: Bool
            var error: String?
            var llm: LLMUsage?
            var llmFallbacks: [String: Int]?

            enum CodingKeys: String, CodingKey {
                case job, status, trigger, examined, changed, complete, error, llm
                case llmFallbacks = "llm_fallbacks"
                case startedAt = "started_at"
                case durationMs = "duration_ms"
                case dryRun = "dry_run"
            }
        }

        enum CodingKeys: String, CodingKey {
            case store, now, counts, recall, llm
            case lastRuns = "last_runs"
        }
    }

    func run() async throws {
        try await withApp(options, access: .readOnly) { app in
            let now = app.clock.now()
            let runs = try await app.store.lastJobRuns().map {
                Report.Run(
                    job: $0.job, status: $0.status, trigger: $0.trigger, startedAt: TimeFormat.rfc3339($0.startedAt),
                    durationMs: $0.durationMs, examined: $0.examined, changed: $0.changed, complete: $0.complete,
                    dryRun: $0.dryRun, error: $0.error, llm: $0.llmUsage, llmFallbacks: $0.llmFallbacks)
            }
            let today = try await app.store.llmUsage(day: now.utcDay)
            let llm = app.configuration.llm
            let spend =
                app.configuration.maintenance.consolidation.summarizer == .llm || today.calls > 0
                ? Report.LLMSpend(
                    day: String(TimeFormat.rfc3339(now).prefix(10)), usage: today, maxTokensPerDay: llm.maxTokensPerDay,
                    maxTokensPerRun: llm.maxTokensPerRun)
                : nil
            let report = Report(
                store: app.store.path, now: TimeFormat.rfc3339(now), counts: try await app.store.counts(now: now),
                recall: app.configuration.embeddings.recallMode, llm: spend, lastRuns: runs)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            let c = report.counts
            print("store      \(report.store)")
            print("sessions   \(c.openSessions) open, \(c.endedSessions) ended (\(c.unconsolidatedSessions) not consolidated)")
            print("memories   \(c.liveMemories) live, \(c.archivedMemories) archived, \(c.expiredMemories) expired awaiting purge")
            print("recall     \(report.recall.line)")
            print("next       idle deadline \(c.nextIdleDeadline.map(TimeFormat.rfc3339) ?? "none"), expiry \(c.nextExpiry.map(TimeFormat.rfc3339) ?? "none")")
            if let spend = report.llm { print("llm        \(spend.line)") }
            for run in runs {
                print("last \(run.job.padding(toLength: 12, withPad: " ", startingAt: 0)) \(run.status) at \(run.startedAt): \(run.changed) changed of \(run.examined)\(run.llm.map { ", llm \($0.calls) calls \($0.tokens) tokens" } ?? "")\(run.dryRun ? " (dry run)" : "")\(run.error.map { " — \($0)" } ?? "")")
            }
            if runs.isEmpty { print("last       no job has run yet") }
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import sessions and memories from JSON lines, all or nothing.")

    @Argument(help: "The JSON-lines file, or - for standard input.")
    var file: String

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options) { app in
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    printError("memkeepd: cannot read \(file)")
                    throw ExitCode(66)
                }
                data = contents
            }
            let text = String(decoding: data, as: UTF8.self)
            do {
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                if lines.last?.isEmpty == true { lines.removeLast() }
                let progress = Progress(label: "import: lines read", total: lines.count)
                let summary = try await app.store.importLines(lines, progress: progress.advance(by:))
                progress.finish()
                print("imported \(summary.sessions) sessions and \(summary.memories) memories")
            } catch let error as Interchange.ImportError {
                throw dataError("\(file): \(error); nothing was imported")
            } catch let error as StoreError {
                guard case .storageFull = error else { throw error }
                printError("memkeepd: \(file): \(error); nothing was imported")
                throw Exit.ioError
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the store (or one agent) as JSON lines to standard output.")

    @Option(help: "Only this agent's sessions and memories.")
    var agent: String?

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options, access: .readOnly) { app in
            let output = FileHandle.standardOutput
            let progress = Progress(label: "export: lines written", total: try await exportSize(app))
            try await app.store.export(agentID: agent) { line in
                output.write(Data((line + "\n").utf8))
                progress.advance()
            }
            progress.finish()
        }
    }
}

extension ExportCommand {
    /// The lines the export will write (asked only on a terminal): sessions and memories of
    /// the agent, or of the store.
    func exportSize(_ app: App) async throws -> Int {
        guard Progress.isShown else { return 0 }
        if let agent {
            let stats = try await app.store.agentStats(agentID: agent)
            return stats.map { $0.totalSessions + $0.totalMemories } ?? 0
        }
        let counts = try await app.store.counts(now: app.clock.now())
        return counts.openSessions + counts.endedSessions + counts.liveMemories + counts.archivedMemories
            + counts.expiredMemories
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Undo a consolidation: bring back its sources and delete its summaries.",
        discussion: "Takes a consolidation id or the id of any of its summaries; the whole batch is undone.")

    @Argument(help: "A consolidation id, or the id of one of its summary memories.")
    var id: String

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options) { app in
            do {
                let result = try await app.store.restore(id: id)
                print(
                    "restored \(result.memoryIDs.count) memories of \(result.sessionIDs.count) sessions; consolidation "
                        + "\(result.consolidationID) undone, \(result.summaryIDs.count) summaries deleted")
            } catch let error as StoreError {
                throw dataError(error)
            }
        }
    }
}

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what a consolidation did with each source: kept, merged, duplicate, superseded, left out.",
        discussion: """
            Takes a consolidation id (every source), a summary id (its sources, and those of its \
            consolidation that went into no summary) or the id of a consolidated memory (its fate).
            """)

    @Argument(help: "A consolidation id, a summary id or a consolidated memory's id.")
    var id: String

    @Flag(help: "Print JSON (the shape of GET /v1/memory/{id}/sources).")
    var json = false

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options, access: .readOnly) { app in
            let explanation: ConsolidationExplanation
            do {
                explanation = try await app.store.explain(id: id)
            } catch let error as StoreError {
                throw dataError(error)
            }
            print(json ? explanation.json.jsonText() : Self.text(explanation))
        }
    }

    static func text(_ explanation: ConsolidationExplanation) -> String {
        var lines = [
            "consolidation \(explanation.consolidationID): \(explanation.summaryIDs.count) summaries"
        ]
        var section: String??
        for entry in explanation.entries {
            if section != .some(entry.source.summaryID) {
                section = .some(entry.source.summaryID)
                lines.append(entry.source.summaryID.map { "summary \($0):" } ?? "in no summary:")
            }
            let source = entry.source
            var line = "  \(source.fate.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0))\(source.sourceMemoryID)"
            if let importance = entry.importance { line += String(format: "  importance %.2f", importance) }
            switch source.fate {
            case .merged: line += "  into \"\(source.fateRef ?? "")\""
            case .duplicateOf, .supersededBy: line += "  → \(source.fateRef ?? "")"
            case .kept, .belowFloor, .overCap: break
            }
            lines.append(line)
            lines.append("      \"\(Self.excerpt(entry.content ?? "(purged)"))\"")
        }
        return lines.joined(separator: "\n")
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= 100 ? flat : flat.prefix(99) + "…"
    }
}

struct CloseSessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-session", abstract: "End a session now (reason client).")

    @Argument(help: "The session id.")
    var id: String

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options) { app in
            do {
                let session = try await app.store.endSession(id: id, reason: .client)
                print("session \(id) ended at \(TimeFormat.rfc3339(session.endedAt!)) (\(session.endedReason!.rawValue))")
            } catch let error as StoreError {
                throw dataError(error)
            }
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or upgrade the store's schema.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withApp(options) { app in
            print("store \(app.store.path): schema up to date")
        }
    }
}

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and exit (0 valid, 78 invalid).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let path = options.config ?? ProcessInfo.processInfo.environment["MEMKEEP_CONFIG"]
        do {
            let configuration = try ConfigurationLoader.load(path: path)
            print("configuration OK: store \(configuration.storeLocation)")
        } catch {
            printError("memkeepd: bad configuration: \(error)")
            throw Exit.badConfiguration
        }
    }
}
