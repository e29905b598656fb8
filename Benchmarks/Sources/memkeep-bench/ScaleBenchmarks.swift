import Embeddings
import Foundation
import Maintenance
import MemoryStore

/// The scaling curve: the same measurements on stores of several sizes, to show whether each
/// cost grows with the work done or with the store.
struct ScaleReport: Codable {
    var startedAt: String
    var points: [ScalePoint]
    var totalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case startedAt = "started_at"
        case points
        case totalSeconds = "total_seconds"
    }
}

struct ScalePoint: Codable {
    var memories: Int
    var storeBytes: Int64
    var jobs: [ScaleJob]
    var touchRequestsPerSecond: Double
    var touchLatency: Percentiles
    var recall: [ScaleRecall]

    func job(_ name: JobName) -> ScaleJob? { jobs.first { $0.job == name.rawValue } }

    enum CodingKeys: String, CodingKey {
        case memories
        case storeBytes = "store_bytes"
        case jobs
        case touchRequestsPerSecond = "touch_requests_per_second"
        case touchLatency = "touch_latency"
        case recall
    }
}

struct ScaleJob: Codable {
    var job: String
    var rows: Int
    var memkeepdSeconds: Double
    var floorSeconds: Double
    var writerDuringMemkeepd: Percentiles?

    var memkeepdRowsPerSecond: Double { Double(rows) / max(memkeepdSeconds, 1e-9) }
    var floorRowsPerSecond: Double { Double(rows) / max(floorSeconds, 1e-9) }
    /// memkeepd's microseconds per changed row: flat across sizes when the cost follows the work.
    var microsecondsPerRow: Double { memkeepdSeconds * 1e6 / Double(max(rows, 1)) }

    enum CodingKeys: String, CodingKey {
        case job, rows
        case memkeepdSeconds = "memkeepd_seconds"
        case floorSeconds = "floor_seconds"
        case writerDuringMemkeepd = "writer_during_memkeepd"
    }
}

struct ScaleRecall: Codable {
    var agentMemories: Int
    var requestsPerSecond: Double
    var latency: Percentiles

    enum CodingKeys: String, CodingKey {
        case agentMemories = "agent_memories"
        case requestsPerSecond = "requests_per_second"
        case latency
    }
}

struct ScaleBenchmarks {
    let jobs: JobBenchmarks
    let daemon: DaemonBenchmarks
    let seed: UInt64
    let now: UnixMillis
    let agentSizes: [Int]
    let embedder: BuiltinEmbedder
    let modelDirectory: String
    let log: (String) -> Void

    var seconds: Int { jobs.quick ? 3 : 10 }

    func measure(sizes: [Int]) async throws -> ScaleReport {
        let started = ContinuousClock.now
        let startedAt = ISO8601DateFormatter().string(from: Date())
        var points: [ScalePoint] = []
        for size in sizes { points.append(try await measure(size: size)) }
        return ScaleReport(startedAt: startedAt, points: points, totalSeconds: (ContinuousClock.now - started).seconds)
    }

    func measure(size: Int) async throws -> ScalePoint {
        let work = jobs.workDirectory
        let source = "\(work)/scale-source.db"
        let orphanSource = "\(work)/scale-sessions.db"
        defer { [source, orphanSource].forEach(Shell.removeStore) }
        log("scale \(size): generating")
        [source, orphanSource].forEach(Shell.removeStore)
        let generator = Generator(memories: size, seed: seed, now: now, heavyMemories: min(10_000, size / 5))
        let summary = try generator.generate(path: source)
        let agents = try generator.addScaleAgents(
            path: source, sizes: agentSizes, model: embedder.modelID, dimensions: embedder.dimensions)
        try generator.generateSessions(path: orphanSource, count: size, due: size / 100)

        var figures: [ScaleJob] = []
        for job in [JobName.purge, .decay, .orphans] {
            let store = job == .orphans ? orphanSource : source
            let copy = "\(work)/scale-\(job.rawValue).db"
            defer { Shell.removeStore(copy) }
            log("scale \(size): \(job.rawValue), memkeepd and the floor")
            try Shell.copyStore(store, to: copy)
            let ours = try await jobs.memkeepd(job, path: copy)
            try Shell.copyStore(store, to: copy)
            let floor = try jobs.floor(job, path: copy)
            var figure = ScaleJob(job: job.rawValue, rows: ours.rows, memkeepdSeconds: ours.seconds, floorSeconds: floor)
            if job != .orphans {
                log("scale \(size): \(job.rawValue) with the foreground writer")
                try Shell.copyStore(store, to: copy)
                figure.writerDuringMemkeepd = try await jobs.withWriter(path: copy) { _ = try await jobs.memkeepd(job, path: copy) }
            }
            figures.append(figure)
        }

        log("scale \(size): serve, heartbeats and recall for agents of \(agents.map(\.memories)) memories")
        let copy = try daemon.serveCopy(of: source)
        defer { Shell.removeStore(copy) }
        let (process, port, _) = try daemon.launch(
            store: copy,
            environment: ["MEMKEEP_EMBEDDINGS_PROVIDER": "builtin", "MEMKEEP_EMBEDDINGS_MODEL_DIR": modelDirectory])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await daemon.settled(copy)
        let base = "http://127.0.0.1:\(port)"
        let touch = try daemon.heartbeats(base: base, seconds: seconds)
        var recall: [ScaleRecall] = []
        for agent in agents {
            let result = try daemon.repeatedRecall(base: base, agent: agent.agent, seconds: seconds)
            recall.append(ScaleRecall(agentMemories: agent.memories, requestsPerSecond: result.rate, latency: result.latency))
        }
        return ScalePoint(
            memories: size, storeBytes: summary.bytes, jobs: figures, touchRequestsPerSecond: touch.rate,
            touchLatency: touch.latency, recall: recall)
    }
}
