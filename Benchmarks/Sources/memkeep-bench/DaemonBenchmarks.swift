#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import MemoryStore

/// `memkeepd serve` on a copy of the big store: wrk against its API, and the idle daemon.
struct DaemonBenchmarks: Sendable {
    let memkeepd: String
    let workDirectory: String
    let scripts: String
    let quick: Bool
    let log: @Sendable (String) -> Void

    struct HTTPFigures: Codable {
        var touchRequestsPerSecond: Double
        var touchLatency: Percentiles
        var recallRequestsPerSecond: Double
        var recallLatency: Percentiles
        var storeRequestsPerSecond: Double
        var storeLatency: Percentiles
        var recallAgentMemories: Int
        var newQueryRecallRequestsPerSecond: Double
        var newQueryRecallLatency: Percentiles
        var pacedStoreRate: Double
        var pacedStoreLatency: Percentiles
        /// Memories still waiting for a vector when the paced stores end, and how long the
        /// embed job then took to empty the queue.
        var embedBacklogAfterPacedStores: Int
        var embedDrainSeconds: Double

        enum CodingKeys: String, CodingKey {
            case touchRequestsPerSecond = "touch_requests_per_second"
            case touchLatency = "touch_latency"
            case recallRequestsPerSecond = "recall_requests_per_second"
            case recallLatency = "recall_latency"
            case storeRequestsPerSecond = "store_requests_per_second"
            case storeLatency = "store_latency"
            case recallAgentMemories = "recall_agent_memories"
            case newQueryRecallRequestsPerSecond = "new_query_recall_requests_per_second"
            case newQueryRecallLatency = "new_query_recall_latency"
            case pacedStoreRate = "paced_store_rate"
            case pacedStoreLatency = "paced_store_latency"
            case embedBacklogAfterPacedStores = "embed_backlog_after_paced_stores"
            case embedDrainSeconds = "embed_drain_seconds"
        }
    }

    struct IdleFigures: Codable {
        var readyMilliseconds: Double
        var residentMegabytesAtStart: Double
        var residentMegabytesAfterTraffic: Double
        var trafficRequests: Int
        var wakeUpsPerMinute: Double
        var storeAccessesPerMinute: Double
        var idleSeconds: Double
        /// Of the resident memory after traffic: the mapped model weights.
        var modelResidentMegabytes: Double
        /// The resident memory after traffic by kind (`residentBreakdown`).
        var residentAfterTrafficBreakdown: [String: Double]?

        enum CodingKeys: String, CodingKey {
            case readyMilliseconds = "ready_ms"
            case residentMegabytesAtStart = "resident_mb_at_start"
            case residentMegabytesAfterTraffic = "resident_mb_after_traffic"
            case trafficRequests = "traffic_requests"
            case wakeUpsPerMinute = "wakeups_per_minute"
            case storeAccessesPerMinute = "store_accesses_per_minute"
            case idleSeconds = "idle_seconds"
            case modelResidentMegabytes = "model_resident_mb"
            case residentAfterTrafficBreakdown = "resident_after_traffic_breakdown_mb"
        }
    }

    /// A copy of `source` for `serve`, with the periodic jobs recorded as just run (the job
    /// figures are measured separately; here the API is measured alone) and the open sessions
    /// the heartbeat load touches.
    /// SQL for a store about to be served under load: the jobs' last runs just now (so the
    /// daemon's own consolidation, decay and purge stay out of the figures) and the 100 open
    /// sessions `wrk-0` … `wrk-99` the heartbeats go to. The same on both backends.
    static func serveSetup() -> String {
        let wallNow = Int64(Date().timeIntervalSince1970 * 1000)
        var setup = ""
        for job in ["consolidate", "decay", "purge"] {
            setup += "INSERT INTO job_runs (job, trigger, holder, started_at, finished_at, status) "
                + "VALUES ('\(job)', 'once', 'bench', \(wallNow), \(wallNow), 'ok');\n"
        }
        for index in 0..<100 {
            setup += "INSERT INTO sessions (id, agent_id, started_at, last_activity_at, idle_timeout_s, idle_deadline_at) "
                + "VALUES ('wrk-\(index)', 'bench-wrk', \(wallNow), \(wallNow), 7200, \(wallNow + 7_200_000));\n"
        }
        return setup
    }

    func serveCopy(of source: String) throws -> String {
        let copy = "\(workDirectory)/serve.db"
        try Shell.copyStore(source, to: copy)
        let prepared = try Shell.run("/usr/bin/sqlite3", [copy], input: Self.serveSetup())
        guard prepared.status == 0 else { throw BenchError.tool("sqlite3", prepared.output) }
        return copy
    }

    /// Waits until the daemon's start-up orphan sweep has ended every session of `store` past its
    /// deadline (the generated stores have 2% of them: 22,000 at 5M memories), then 2 s more for
    /// its checkpoint, so the API is measured without it.
    func settled(_ store: String) async throws {
        let started = ContinuousClock.now
        while (ContinuousClock.now - started).seconds < 300 {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let due = try Shell.run(
                "/usr/bin/sqlite3", ["-cmd", ".timeout 5000", store,
                    "SELECT count(*) FROM sessions WHERE idle_deadline_at IS NOT NULL AND idle_deadline_at <= \(now);"])
            guard due.status == 0 else { throw BenchError.tool("sqlite3", due.output) }
            if due.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .seconds(2))
    }

    /// Heartbeats from 32 connections over the 100 open sessions of `serveCopy`.
    func heartbeats(base: String, seconds: Int) throws -> WrkResult {
        let sessions = (0..<100).map { "wrk-\($0)" }.joined(separator: ",")
        return try wrk(["-t2", "-c32", "-d\(seconds)s", "-s", "\(scripts)/wrk/touch.lua", base], env: ["SESSIONS": sessions])
    }

    /// Recall of one repeated question (its vector cached after the first) for `agent`, from 4
    /// connections: the ranking over the agent's memories, without the model's pass. One request
    /// first loads the agent's vectors and the question's vector, so the figures are the steady state.
    func repeatedRecall(base: String, agent: String, seconds: Int) throws -> WrkResult {
        let url = "\(base)/v1/memory/recall?agent_id=\(agent)&query=postgresql%20aws%20billing%20migration&top_k=8"
        let warm = try Shell.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", url])
        guard warm.status == 0 else { throw BenchError.tool("curl \(url)", warm.output) }
        return try wrk(["-t2", "-c4", "-d\(seconds)s", url], env: [:])
    }

    /// Runs the daemon on a copy of `source`: the API under load, then the idle daemon.
    func run(source: String, heavyAgentMemories: Int, environment extra: [String: String]) async throws -> (HTTPFigures, IdleFigures) {
        let copy = try serveCopy(of: source)
        let (process, port, ready) = try launch(store: copy, environment: extra)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await settled(copy)
        let residentAtStart = Self.residentMegabytes(process.processIdentifier)

        let base = "http://127.0.0.1:\(port)"
        let seconds = quick ? 3 : 10
        log("http: heartbeats (touch)")
        let touch = try heartbeats(base: base, seconds: seconds)
        log("http: recall for an agent with \(heavyAgentMemories) memories")
        let recall = try repeatedRecall(base: base, agent: Generator.heavyAgent, seconds: seconds)
        log("http: recall with a new question each time (every query embedded)")
        let newQueries = try wrk(
            ["-t2", "-c4", "-d\(seconds)s", "-s", "\(scripts)/wrk/recall.lua", base], env: ["AGENT": Generator.heavyAgent])
        log("http: 100 stores/s, each embedded by the embed job")
        let paced = try await pacedStores(base: base, rate: 100, seconds: quick ? 5 : 20)
        let backlog = try embedBacklog(copy)
        let drainStarted = ContinuousClock.now
        while try embedBacklog(copy) > 0, (ContinuousClock.now - drainStarted).seconds < 120 {
            try await Task.sleep(for: .milliseconds(50))
        }
        let drain = (ContinuousClock.now - drainStarted).seconds
        log("http: store (flat out)")
        let store = try wrk(["-t2", "-c4", "-d\(seconds)s", "-s", "\(scripts)/wrk/store.lua", base], env: ["AGENT": "bench-store"])
        // Flat out, stores outrun the model: let the embed job finish them before the idle figures.
        log("http: waiting for the embed job to catch up with the flat-out stores")
        let catchUpStarted = ContinuousClock.now
        while try embedBacklog(copy) > 0, (ContinuousClock.now - catchUpStarted).seconds < 600 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let http = HTTPFigures(
            touchRequestsPerSecond: touch.rate, touchLatency: touch.latency, recallRequestsPerSecond: recall.rate,
            recallLatency: recall.latency, storeRequestsPerSecond: store.rate, storeLatency: store.latency,
            recallAgentMemories: heavyAgentMemories, newQueryRecallRequestsPerSecond: newQueries.rate,
            newQueryRecallLatency: newQueries.latency, pacedStoreRate: paced.rate, pacedStoreLatency: paced.latency,
            embedBacklogAfterPacedStores: backlog, embedDrainSeconds: drain)
        let requests = touch.requests + recall.requests + newQueries.requests + store.requests + paced.latency.count
        let residentAfter = Self.residentMegabytes(process.processIdentifier)
        let modelResident = Self.mappedResidentMegabytes(process.processIdentifier, fileSuffix: "model.safetensors")
        let afterTrafficBreakdown = Self.residentBreakdown(process.processIdentifier)

        log("idle: counting wake-ups and store accesses with nothing due")
        let idleSeconds = quick ? 10.0 : 60.0
        let before = try await metrics(base)
        try await Task.sleep(for: .seconds(idleSeconds))
        let after = try await metrics(base)
        // The second scrape's own count of sessions and memories is one access; not the daemon's.
        let accesses = max(0, (after["memkeep_store_accesses_total"] ?? 0) - (before["memkeep_store_accesses_total"] ?? 0) - 1)
        let wakeUps = (after["memkeep_scheduler_wakeups_total"] ?? 0) - (before["memkeep_scheduler_wakeups_total"] ?? 0)
        let idle = IdleFigures(
            readyMilliseconds: ready, residentMegabytesAtStart: residentAtStart, residentMegabytesAfterTraffic: residentAfter,
            trafficRequests: requests, wakeUpsPerMinute: wakeUps * 60 / idleSeconds,
            storeAccessesPerMinute: accesses * 60 / idleSeconds, idleSeconds: idleSeconds, modelResidentMegabytes: modelResident,
            residentAfterTrafficBreakdown: afterTrafficBreakdown)
        Shell.removeStore(copy)
        return (http, idle)
    }

    /// Starts `memkeepd serve` on `store` and waits for READY=1; returns the process, its port
    /// and the milliseconds to READY.
    func launch(store: String, environment extra: [String: String]) throws -> (Process, Int, Double) {
        let notify = try NotifyListener(path: "\(workDirectory)/notify-\(UUID().uuidString.prefix(8)).sock")
        let port = 20_000 + Int(getpid() % 20_000) + Int.random(in: 0..<500)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: memkeepd)
        process.arguments = ["serve"]
        process.currentDirectoryURL = URL(fileURLWithPath: workDirectory)
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "MEMKEEP_STORE_PATH": store,
            "MEMKEEP_HTTP_LISTEN": "127.0.0.1:\(port)", "NOTIFY_SOCKET": notify.path, "MEMKEEP_LOG_LEVEL": "warning",
            "MEMKEEP_ORPHANS_MAX_SLEEP": "1h", "MEMKEEP_JOBS_CONSOLIDATE_JITTER": "0", "MEMKEEP_JOBS_DECAY_JITTER": "0",
            "MEMKEEP_JOBS_PURGE_JITTER": "0", "MEMKEEP_JOBS_PURGE_INTERVAL": "1h",
        ].merging(extra) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        guard notify.waitFor("READY=1", timeout: 60) else {
            process.terminate()
            throw BenchError.missing("READY=1 from memkeepd serve")
        }
        return (process, port, (ContinuousClock.now - started).seconds * 1000)
    }

    /// Stores at `rate` per second on a fixed schedule (open loop: a slow answer delays no
    /// later request), each with its own text; the latency of each.
    func pacedStores(base: String, rate: Int, seconds: Int) async throws -> (rate: Double, latency: Percentiles) {
        let url = URL(string: "\(base)/v1/memory/store")!
        let started = ContinuousClock.now
        let total = rate * seconds
        let samples = try await withThrowingTaskGroup(of: Double.self) { group in
            for index in 0..<total {
                group.addTask {
                    try await Task.sleep(until: started + .milliseconds(index * 1000 / rate))
                    var request = URLRequest(url: url)
                    request.httpMethod = "POST"
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.httpBody = Data(
                        #"{"agent_id": "bench-paced", "content": "paced fact \#(index): the customer upgraded the billing cache in region \#(index % 17)"}"#.utf8)
                    let sent = ContinuousClock.now
                    let (_, response) = try await URLSession.shared.data(for: request)
                    guard (response as? HTTPURLResponse)?.statusCode == 201 else { throw BenchError.tool("store", "\(response)") }
                    return (ContinuousClock.now - sent).seconds * 1000
                }
            }
            var samples: [Double] = []
            for try await sample in group { samples.append(sample) }
            return samples
        }
        return (Double(total) / (ContinuousClock.now - started).seconds, Percentiles(samples))
    }

    func embedBacklog(_ store: String) throws -> Int {
        let result = try Shell.run("/usr/bin/sqlite3", [store, "SELECT count(*) FROM embed_queue;"])
        guard result.status == 0, let count = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError.tool("sqlite3", result.output)
        }
        return count
    }

    /// Resident memory of a daemon started on `store` with `environment`, 2 s after READY=1.
    func residentAtStart(store: String, environment: [String: String]) async throws -> (megabytes: Double, breakdown: [String: Double]) {
        // On a serve copy, whose jobs are recorded as just run: on the store itself the daemon
        // would start purge, decay and consolidation at once and be measured mid-run.
        let copy = try serveCopy(of: store)
        let (process, _, _) = try launch(store: copy, environment: environment)
        defer {
            process.terminate()
            process.waitUntilExit()
            Shell.removeStore(copy)
        }
        try await settled(copy)
        return (Self.residentMegabytes(process.processIdentifier), Self.residentBreakdown(process.processIdentifier))
    }

    struct WrkResult {
        var rate: Double
        var latency: Percentiles
        var requests: Int
    }

    func wrk(_ arguments: [String], env: [String: String]) throws -> WrkResult {
        guard let wrk = Shell.which("wrk") else { throw BenchError.missing("wrk (apt-get install wrk)") }
        let result = try Shell.run(wrk, ["--latency"] + arguments, environment: env)
        guard result.status == 0 else { throw BenchError.tool("wrk", result.output) }
        return try Self.parseWrk(result.output)
    }

    /// `Requests/sec:`, the `Latency Distribution` lines (50%, 99%), `Latency` max, and the
    /// request count of wrk's report. Non-2xx answers make the run invalid.
    static func parseWrk(_ text: String) throws -> WrkResult {
        func duration(_ token: Substring) -> Double? {
            for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where token.hasSuffix(suffix) {
                if let value = Double(token.dropLast(suffix.count)) { return value * factor }
            }
            return nil
        }
        var rate: Double?
        var p50: Double?
        var p99: Double?
        var maximum: Double?
        var requests = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.contains("Non-2xx") { throw BenchError.tool("wrk", "errors in the run: \(line)") }
            if fields.first == "Requests/sec:", fields.count > 1 { rate = Double(fields[1]) }
            if fields.first == "50%", fields.count > 1 { p50 = duration(fields[1]) }
            if fields.first == "99%", fields.count > 1 { p99 = duration(fields[1]) }
            if fields.first == "Latency", fields.count > 3 { maximum = duration(fields[3]) }
            if fields.count > 1, fields[1] == "requests", let count = Int(fields[0]) { requests = count }
        }
        guard let rate, let p50, let p99 else { throw BenchError.tool("wrk", "unreadable report:\n\(text)") }
        return WrkResult(
            rate: rate, latency: Percentiles(count: requests, p50Ms: p50, p99Ms: p99, maxMs: maximum ?? p99), requests: requests)
    }

    func metrics(_ base: String) async throws -> [String: Double] {
        let result = try Shell.run("/usr/bin/curl", ["-s", "\(base)/metrics"])
        var values: [String: Double] = [:]
        for line in result.output.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static func residentMegabytes(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kilobytes / 1024
    }

    /// Resident kilobytes of each mapping of the process (its path, or "" for anonymous memory).
    static func residentMappings(_ pid: Int32) -> [(path: String, kilobytes: Double)] {
        // Read to the end: /proc reports a size of 0, which a sized read takes at its word.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps"), let data = try? handle.readToEnd() else { return [] }
        var mappings: [(path: String, kilobytes: Double)] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") {
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                mappings.append((fields.count > 5 ? fields[5].trimmingCharacters(in: .whitespaces) : "", 0))
            } else if !mappings.isEmpty, line.hasPrefix("Rss:") {
                mappings[mappings.count - 1].kilobytes += Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
        }
        return mappings
    }

    /// Resident megabytes of the process's mappings of files whose path ends in `suffix`.
    static func mappedResidentMegabytes(_ pid: Int32, fileSuffix suffix: String) -> Double {
        residentMappings(pid).filter { $0.path.hasSuffix(suffix) }.reduce(0) { $0 + $1.kilobytes } / 1024
    }

    /// Where the resident memory is, in megabytes: memkeepd's own code and data, the Swift
    /// runtime and Foundation, other shared libraries (SQLite, OpenBLAS, libc…), the mapped
    /// model, the store's mapped files, and anonymous memory (malloc's heaps, with SQLite's
    /// page caches and the vector cache, and thread stacks).
    static func residentBreakdown(_ pid: Int32) -> [String: Double] {
        var breakdown: [String: Double] = [:]
        for mapping in residentMappings(pid) where mapping.kilobytes > 0 {
            let path = mapping.path
            let name = URL(fileURLWithPath: path).lastPathComponent
            let category =
                if path.isEmpty || path.hasPrefix("[") { "anonymous" }
                else if name == "memkeepd" { "memkeepd" }
                else if path.contains("/swift/") { "swift_runtime_and_foundation" }
                else if name.hasSuffix(".safetensors") { "model" }
                else if name.hasSuffix(".db") || name.hasSuffix("-shm") || name.hasSuffix("-wal") { "store_files" }
                else { "other_libraries" }
            breakdown[category, default: 0] += mapping.kilobytes / 1024
        }
        return breakdown
    }
}

/// The benchmark's end of NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw BenchError.missing("a notify socket at \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func waitFor(_ line: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0, String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").contains(Substring(line)) {
                return true
            }
        }
        return false
    }
}
