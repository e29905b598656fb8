import ArgumentParser
import Embeddings
import Foundation
import Maintenance
import MemoryStore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memkeep-bench",
        abstract: "Measures memkeepd's jobs and API against the sqlite3 floor and a hand-written script.")

    @Option(help: "Memories in the generated store.")
    var memories = 1_000_000

    @Flag(help: "About 50,000 memories and short runs: a smoke test.")
    var quick = false

    @Option(help: "Seed of the generator: the same seed, the same store.")
    var seed: UInt64 = 42

    @Option(help: "Scratch directory for the stores (several copies of the store are made).")
    var work = ".build/bench"

    @Option(help: "Where to write results.json.")
    var output = "Benchmarks/results.json"

    @Option(help: "Where to write the Markdown tables (empty: not written).")
    var results = "Benchmarks/RESULTS.md"

    @Option(help: "The memkeepd binary (default: next to this one).")
    var memkeepd: String?

    @Option(help: "The Benchmarks directory with the floor, hand-written and wrk scripts.")
    var scripts = "Benchmarks"

    @Option(help: "The built-in embedding model's files (scripts/fetch-model).")
    var modelDir = "var/models/all-MiniLM-L6-v2"

    @Option(help: "Only render the Markdown tables (to --results) from this results.json of an earlier run.")
    var render: String?

    @Flag(help: "Only generate the stores (source.db, orphans-source.db in --work) and stop: for profiling.")
    var generateOnly = false

    @Option(help: "Measure only these (comma-separated: jobs such as consolidate, or http for the API and idle figures) and update their figures in --output and --results.")
    var only: String?

    @Flag(help: "Only the scaling curve (--scale-sizes, --scale-agents), merged into --output, --results and --chart. --quick runs a small one after its other figures.")
    var scale = false

    @Option(help: "Store sizes of the scaling curve, in memories (comma-separated).")
    var scaleSizes = "100000,1000000,5000000"

    @Option(help: "Agent sizes of the scaling curve's recall, in memories (comma-separated).")
    var scaleAgents = "1000,10000,50000"

    @Option(help: "sqlite (the other figures) or postgres: the jobs against psql's floor and two nodes' heartbeats, merged into --output and --results.")
    var backend = "sqlite"

    @Option(help: "Where to write the scaling chart (SVG), beside --results.")
    var chart = "Benchmarks/scale.svg"

    func validate() throws {
        guard ["sqlite", "postgres"].contains(backend) else {
            throw ValidationError("--backend must be sqlite or postgres, not \(backend)")
        }
        for name in onlyNames where JobName(rawValue: name) == nil && name != Self.httpFigures {
            throw ValidationError(
                "--only names \(name), which is neither a job (\(JobName.allCases.map(\.rawValue).joined(separator: ", "))) nor \(Self.httpFigures)")
        }
    }

    /// What `--only` names for the daemon's API and idle figures.
    static let httpFigures = "http"

    var onlyNames: [String] { only?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [] }

    func run() async throws {
        if let render {
            let report = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: render)))
            try write(report, json: false)
            return
        }
        let started = ContinuousClock.now
        let count = quick ? 50_000 : memories
        let work = URL(fileURLWithPath: self.work).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let binary = memkeepd
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("memkeepd").path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError.missing("memkeepd at \(binary)") }
        let scripts = URL(fileURLWithPath: self.scripts).standardizedFileURL.path
        let log: @Sendable (String) -> Void = { line in
            let stamp = String(format: "%6.1f", (ContinuousClock.now - started).seconds)
            FileHandle.standardOutput.write(Data("[\(stamp) s] \(line)\n".utf8))
        }
        // A fixed "now" (2026-06-01) keeps the generated store and every job's work reproducible.
        let now: UnixMillis = 1_780_272_000_000
        let modelDirectory = URL(fileURLWithPath: modelDir).standardizedFileURL.path
        // Consolidation runs with the model present, as `memkeepd run consolidate` does.
        let consolidationEmbedder = BuiltinEmbedder.isPresent(in: modelDirectory)
            ? try BuiltinEmbedder(directory: modelDirectory) : nil
        let jobs = JobBenchmarks(
            workDirectory: work, scripts: scripts, now: now, quick: quick, embedder: consolidationEmbedder, log: log)
        let daemon = DaemonBenchmarks(memkeepd: binary, workDirectory: work, scripts: scripts, quick: quick, log: log)
        let agentSizes = quick ? [500, 2_000, 5_000] : try Self.counts(scaleAgents)
        let scaling = consolidationEmbedder.map {
            ScaleBenchmarks(
                jobs: jobs, daemon: daemon, seed: seed, now: now, agentSizes: agentSizes, embedder: $0,
                modelDirectory: modelDirectory, log: log)
        }
        if scale, !quick {
            guard let scaling else { throw BenchError.missing("the built-in model in \(modelDirectory) (scripts/fetch-model)") }
            var report = try previousReport()
                ?? { throw BenchError.missing("\(output) of a full run to merge the scaling curve into") }()
            report.scale = try await scaling.measure(sizes: Self.counts(scaleSizes))
            try write(report)
            log("done: \(output), \(results), \(chart)")
            return
        }
        let generator = Generator(memories: count, seed: seed, now: now, heavyMemories: min(10_000, count / 5))

        log("generating \(count) memories (seed \(seed))")
        let source = "\(work)/source.db"
        Shell.removeStore(source)
        let summary = try generator.generate(path: source)
        log("generated \(summary.sessions) sessions, \(summary.bytes / 1_048_576) MiB")
        let orphanSource = "\(work)/orphans-source.db"
        Shell.removeStore(orphanSource)
        try generator.generateSessions(path: orphanSource, count: count, due: count / 100)
        if generateOnly {
            log("generated \(source) and \(orphanSource)")
            return
        }
        if backend == "postgres" {
            var report = try previousReport()
                ?? { throw BenchError.missing("\(output) of a run of the other figures to merge PostgreSQL's into") }()
            report.postgres = try await PostgresBenchmarks(
                memkeepd: binary, daemon: daemon, scripts: scripts, now: now, quick: quick, log: log
            ).run(source: source, orphanSource: orphanSource, memories: count)
            try write(report)
            [source, orphanSource].forEach(Shell.removeStore)
            log("done: \(output)\(results.isEmpty ? "" : ", \(results)")")
            print(report.postgres!.markdown())
            return
        }

        let embedding = EmbeddingBenchmarks(
            memkeepd: binary, modelDirectory: modelDirectory, workDirectory: work, quick: quick, log: log)
        if only != nil {
            try await measureOnly(onlyNames.compactMap(JobName.init(rawValue:)), jobs: jobs, source: source, orphanSource: orphanSource)
            if onlyNames.contains(Self.httpFigures) {
                guard var report = try previousReport() else { throw BenchError.missing("\(output) of a full run (--only updates it)") }
                let (embedded, _, http, idle) = try await served(
                    embedding: embedding, daemon: daemon, source: source, heavyAgentMemories: summary.heavyAgentMemories, log: log)
                report.http = http
                report.idle = idle
                report.remeasured = (report.remeasured ?? [:]).merging(
                    [Self.httpFigures: ISO8601DateFormatter().string(from: Date())]) { $1 }
                try write(report)
                Shell.removeStore(embedded)
                print(report.markdown())
            }
            [source, orphanSource].forEach(Shell.removeStore)
            return
        }
        var figures: [JobFigures] = []
        for job in [JobName.purge, .decay] {
            figures.append(try await jobs.measure(job, source: source, interference: true))
        }
        figures.append(try await jobs.measure(.orphans, source: orphanSource, interference: false))
        figures.append(try await jobs.measure(.consolidate, source: source, interference: false))

        let texts = try Shell.run("/usr/bin/sqlite3", [source, "SELECT content FROM memories LIMIT \(quick ? 640 : 3200);"])
            .output.split(separator: "\n").map(String.init)
        var embeddings = try await embedding.measureModel(texts: texts)
        let (embedded, backfill, http, idle) = try await served(
            embedding: embedding, daemon: daemon, source: source, heavyAgentMemories: summary.heavyAgentMemories, log: log)
        embeddings.backfillMemories = backfill.memories
        embeddings.backfillSeconds = backfill.seconds
        embeddings.backfillPerSecond = Double(backfill.memories) / backfill.seconds
        log("idle: resident memory without the model")
        let withoutModel = try await daemon.residentAtStart(store: embedded, environment: ["MEMKEEP_EMBEDDINGS_PROVIDER": "none"])

        let report = BenchReport(
            startedAt: ISO8601DateFormatter().string(from: Date()), machine: Self.machine(),
            options: ["mode": quick ? "--quick" : "full", "memories": "\(count)", "seed": "\(seed)"], store: summary,
            orphanStoreSessions: count, jobs: figures, http: http, idle: idle, embeddings: embeddings,
            residentMegabytesWithoutModel: withoutModel.megabytes, residentWithoutModelBreakdown: withoutModel.breakdown,
            totalSeconds: (ContinuousClock.now - started).seconds,
            remeasured: nil,
            // The full curve takes its own run (`--scale`); the quick run measures a small one.
            scale: quick ? try await scaling?.measure(sizes: [20_000, 50_000]) : try previousReport()?.scale)
        try write(report)
        [source, orphanSource, embedded].forEach(Shell.removeStore)
        log("done: \(output)\(results.isEmpty ? "" : ", \(results)")")
        print(report.markdown())
    }

    static func counts(_ list: String) throws -> [Int] {
        try list.split(separator: ",").map {
            guard let count = Int($0.trimmingCharacters(in: .whitespaces)), count > 0 else {
                throw BenchError.missing("a positive count in \"\(list)\" (got \"\($0)\")")
            }
            return count
        }
    }

    /// The report at --output of an earlier run, if there is one.
    func previousReport() throws -> BenchReport? {
        guard FileManager.default.fileExists(atPath: output) else { return nil }
        return try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// Writes the report to --output (unless `json` is false), its tables to --results and its
    /// scaling chart to --chart.
    func write(_ report: BenchReport, json: Bool = true) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: output))
        }
        let chartName = URL(fileURLWithPath: chart).lastPathComponent
        if !results.isEmpty { try report.markdown(chart: chartName).write(toFile: results, atomically: true, encoding: .utf8) }
        if let scale = report.scale { try ScaleChart.svg(scale).write(toFile: chart, atomically: true, encoding: .utf8) }
    }

    /// The daemon's API and idle figures: on a copy of `source` whose heavy agent (and 10,000
    /// more memories) `memkeepd run embed` has embedded, served with the built-in model.
    func served(
        embedding: EmbeddingBenchmarks, daemon: DaemonBenchmarks, source: String, heavyAgentMemories: Int,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> (embedded: String, backfill: (memories: Int, seconds: Double), DaemonBenchmarks.HTTPFigures, DaemonBenchmarks.IdleFigures) {
        let embedded = "\(URL(fileURLWithPath: work).standardizedFileURL.path)/embedded.db"
        try Shell.copyStore(source, to: embedded)
        let backfill = try embedding.backfill(store: embedded, others: quick ? 0 : 10_000)
        log("embedding: \(backfill.memories) memories backfilled in \(String(format: "%.1f", backfill.seconds)) s")
        let builtin = ["MEMKEEP_EMBEDDINGS_PROVIDER": "builtin", "MEMKEEP_EMBEDDINGS_MODEL_DIR": embedding.modelDirectory]
        let (http, idle) = try await daemon.run(source: embedded, heavyAgentMemories: heavyAgentMemories, environment: builtin)
        return (embedded, backfill, http, idle)
    }

    /// Measures `names` and replaces their figures in the report at --output.
    func measureOnly(_ names: [JobName], jobs: JobBenchmarks, source: String, orphanSource: String) async throws {
        guard var report = try previousReport() else { throw BenchError.missing("\(output) of a full run (--only updates it)") }
        for job in names {
            let figures = try await jobs.measure(
                job, source: job == .orphans ? orphanSource : source, interference: job == .purge || job == .decay)
            report.jobs = report.jobs.map { $0.job == job.rawValue ? figures : $0 }
            report.remeasured = (report.remeasured ?? [:]).merging(
                [job.rawValue: ISO8601DateFormatter().string(from: Date())]) { $1 }
        }
        try write(report)
        for job in report.jobs where names.map(\.rawValue).contains(job.job) {
            print("\(job.job): \(job.rows) in \(String(format: "%.2f", job.memkeepdSeconds)) s, \(Int(job.memkeepdRowsPerSecond))/s; floor \(Int(job.floorRowsPerSecond))/s; hand-written \(Int(job.handwrittenRowsPerSecond))/s")
        }
    }

    static func machine() -> [String: String] {
        var machine: [String: String] = ["cores": "\(ProcessInfo.processInfo.activeProcessorCount)"]
        machine["memory"] = "\(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
        {
            machine["cpu"] = line.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        machine["kernel"] = (try? Shell.run("/usr/bin/uname", ["-r"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        machine["sqlite"] = (try? Shell.run("/usr/bin/sqlite3", ["--version"]).output.split(separator: " ").first.map(String.init))
        return machine
    }
}
