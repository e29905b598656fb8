import Embeddings
import Foundation
import Logging
import Maintenance
import MemoryStore

/// One job measured three ways on identical copies, plus the foreground writer's latencies.
struct JobFigures: Codable {
    var job: String
    var rows: Int
    var memkeepdSeconds: Double
    var memkeepdRowsPerSecond: Double
    var floorSeconds: Double
    var floorRowsPerSecond: Double
    var handwrittenRowsPerSecond: Double
    var handwrittenComplete: Bool
    /// memkeepd's time over the floor's (1.0 = as fast as the set-based statement).
    var ratioToFloor: Double
    var handwrittenRatioToFloor: Double
    var writerAlone: Percentiles?
    var writerDuringMemkeepd: Percentiles?
    var writerDuringFloor: Percentiles?
    /// A writer that retries a locked store every millisecond instead of through SQLite's
    /// busy handler: how long memkeepd really holds the store.
    var pollingWriterDuringMemkeepd: Percentiles?

    enum CodingKeys: String, CodingKey {
        case job, rows
        case memkeepdSeconds = "memkeepd_seconds"
        case memkeepdRowsPerSecond = "memkeepd_rows_per_second"
        case floorSeconds = "floor_seconds"
        case floorRowsPerSecond = "floor_rows_per_second"
        case handwrittenRowsPerSecond = "handwritten_rows_per_second"
        case handwrittenComplete = "handwritten_complete"
        case ratioToFloor = "ratio_to_floor"
        case handwrittenRatioToFloor = "handwritten_ratio_to_floor"
        case writerAlone = "writer_alone"
        case writerDuringMemkeepd = "writer_during_memkeepd"
        case writerDuringFloor = "writer_during_floor"
        case pollingWriterDuringMemkeepd = "polling_writer_during_memkeepd"
    }
}

struct JobBenchmarks {
    let workDirectory: String
    let scripts: String
    let now: UnixMillis
    let quick: Bool
    /// Handed to the runner of consolidation, which groups and deduplicates by its vectors.
    let embedder: (any TextEmbedder)?
    let log: (String) -> Void

    var handwrittenLimit: Double { quick ? 10 : 60 }

    /// memkeepd's own path: the JobRunner `memkeepd run` uses, with the shipped settings but no
    /// budget stop (the figure is the whole job), in this process.
    func memkeepd(_ job: JobName, path: String) async throws -> (rows: Int, seconds: Double) {
        let store = try MemoryStore(path: path)
        var configuration = MaintenanceConfiguration()
        configuration.jobs.budget[job] = .seconds(3600)
        configuration.jobs.timeout[job] = .seconds(7200)
        let runner = JobRunner(
            store: store, configuration: configuration, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() },
            embedder: job == .consolidate ? embedder : nil)
        let report = await runner.run(job, trigger: .once, now: now, dryRun: false)
        guard report.status == .ok else { throw BenchError.jobFailed(job.rawValue, report.error ?? "") }
        let rows = job == .consolidate ? report.sessionsConsolidated ?? 0 : report.changed
        return (rows, report.durationMs / 1000)
    }

    func floor(_ job: JobName, path: String) throws -> Double {
        let sql = try String(contentsOfFile: "\(scripts)/floor/\(floorName(job)).sql", encoding: .utf8)
        let result = try Shell.run(
            "/usr/bin/sqlite3", ["-cmd", ".timeout 30000", "-cmd", ".parameter set :now \(now)", path], input: sql)
        guard result.status == 0 else { throw BenchError.tool("sqlite3", result.output) }
        return result.seconds
    }

    func floorName(_ job: JobName) -> String { job.rawValue }

    func handwritten(_ job: JobName, path: String) throws -> (rows: Int, seconds: Double, complete: Bool) {
        let result = try Shell.run(
            "/usr/bin/python3", ["\(scripts)/handwritten/\(job.rawValue).py", path, "\(now)", "\(handwrittenLimit)"])
        guard result.status == 0, let line = result.output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let rows = object["rows"] as? Int, let seconds = object["seconds"] as? Double
        else { throw BenchError.tool("python3", result.output) }
        return (rows, seconds, object["complete"] as? Bool ?? false)
    }

    /// Runs `body` while the foreground writer inserts at `rate` per second (retrying a locked
    /// store every `retryMilliseconds` if given, else through SQLite's busy handler); its latencies.
    func withWriter(
        path: String, rate: Double = 200, retryMilliseconds: Int? = nil, _ body: () async throws -> Void
    ) async throws -> Percentiles {
        let stop = "\(workDirectory)/writer.stop"
        try? FileManager.default.removeItem(atPath: stop)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["\(scripts)/writer.py", path, "\(rate)", stop] + (retryMilliseconds.map { ["\($0)"] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        try await Task.sleep(for: .milliseconds(300))
        try await body()
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Percentiles.self, from: data)
    }

    func measure(_ job: JobName, source: String, interference: Bool) async throws -> JobFigures {
        let copy = "\(workDirectory)/\(job.rawValue).db"
        log("\(job.rawValue): memkeepd")
        try Shell.copyStore(source, to: copy)
        let ours = try await memkeepd(job, path: copy)
        log("\(job.rawValue): floor (sqlite3)")
        try Shell.copyStore(source, to: copy)
        let floorSeconds = try floor(job, path: copy)
        log("\(job.rawValue): hand-written (python3)")
        try Shell.copyStore(source, to: copy)
        let hand = try handwritten(job, path: copy)
        let handRate = Double(hand.rows) / max(hand.seconds, 1e-9)
        let floorRate = Double(ours.rows) / max(floorSeconds, 1e-9)
        var figures = JobFigures(
            job: job.rawValue, rows: ours.rows, memkeepdSeconds: ours.seconds,
            memkeepdRowsPerSecond: Double(ours.rows) / max(ours.seconds, 1e-9), floorSeconds: floorSeconds,
            floorRowsPerSecond: floorRate, handwrittenRowsPerSecond: handRate, handwrittenComplete: hand.complete,
            ratioToFloor: ours.seconds / max(floorSeconds, 1e-9), handwrittenRatioToFloor: floorRate / max(handRate, 1e-9))
        if interference {
            log("\(job.rawValue): foreground writer alone, during memkeepd, during the floor")
            try Shell.copyStore(source, to: copy)
            figures.writerAlone = try await withWriter(path: copy) { try await Task.sleep(for: .seconds(quick ? 1 : 3)) }
            try Shell.copyStore(source, to: copy)
            figures.writerDuringMemkeepd = try await withWriter(path: copy) { _ = try await memkeepd(job, path: copy) }
            try Shell.copyStore(source, to: copy)
            figures.pollingWriterDuringMemkeepd = try await withWriter(path: copy, retryMilliseconds: 1) {
                _ = try await memkeepd(job, path: copy)
            }
            try Shell.copyStore(source, to: copy)
            figures.writerDuringFloor = try await withWriter(path: copy) { _ = try floor(job, path: copy) }
        }
        Shell.removeStore(copy)
        return figures
    }
}

enum BenchError: Error, CustomStringConvertible {
    case jobFailed(String, String)
    case tool(String, String)
    case missing(String)

    var description: String {
        switch self {
        case .jobFailed(let job, let error): "memkeepd job \(job) failed: \(error)"
        case .tool(let tool, let output): "\(tool) failed: \(output.suffix(2000))"
        case .missing(let what): "missing: \(what)"
        }
    }
}
