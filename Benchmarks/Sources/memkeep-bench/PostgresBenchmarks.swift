import Foundation
import Logging
import Maintenance
import MemoryStore

/// `--backend postgres`: the stores the generator made, copied into PostgreSQL by
/// `memkeepd copy-store`; each job against the same set-based SQL run by `psql` (the floor) on
/// a fresh copy of the database; and two `memkeepd serve` nodes on one database under
/// heartbeat load at once.
struct PostgresBenchmarks: Sendable {
    let memkeepd: String
    let daemon: DaemonBenchmarks
    let scripts: String
    let now: UnixMillis
    let quick: Bool
    let log: @Sendable (String) -> Void

    /// The cluster: `MEMKEEP_BENCH_POSTGRES` (`postgres://user@host:port/db`, password in
    /// `MEMKEEP_BENCH_POSTGRES_PASSWORD`), else the test role `scripts/start-postgres` creates.
    var server: PostgresLocation {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["MEMKEEP_BENCH_POSTGRES"], case .postgres(var location) = try? StoreLocation.parse(url) {
            location.password = environment["MEMKEEP_BENCH_POSTGRES_PASSWORD"]
            return location
        }
        return PostgresLocation(
            host: "127.0.0.1", user: "memkeep_test", database: "postgres", sslMode: .disable, password: "memkeep_test")
    }

    func database(_ name: String) -> PostgresLocation {
        var location = server
        location.database = name
        return location
    }

    @discardableResult
    func psql(_ sql: String, database: String, variables: [String: String] = [:]) throws -> Shell.Result {
        guard let psql = Shell.which("psql") else { throw BenchError.missing("psql (apt-get install postgresql-client)") }
        let location = server
        var arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", location.host, "-p", "\(location.port)", "-U", location.user, "-d", database]
        for (name, value) in variables { arguments += ["-v", "\(name)=\(value)"] }
        let result = try Shell.run(psql, arguments, input: sql, environment: ["PGPASSWORD": location.password ?? ""])
        guard result.status == 0 else { throw BenchError.tool("psql", result.output) }
        return result
    }

    /// A fresh database, empty or a copy of `template` (PostgreSQL copies its files: seconds,
    /// not a reload).
    func recreate(_ name: String, from template: String? = nil) throws {
        try psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE);", database: server.database)
        try psql("CREATE DATABASE \(name)\(template.map { " TEMPLATE \($0)" } ?? "");", database: server.database)
    }

    /// Copies a generated SQLite store into a new database with `memkeepd copy-store`.
    func load(_ source: String, into name: String) throws -> Double {
        try recreate(name)
        let passwordFile = "\(daemon.workDirectory)/postgres-password"
        try (server.password ?? "").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let result = try Shell.run(
            memkeepd, ["copy-store", "--to", "\(StoreLocation.postgres(database(name)))", "--to-password-file", passwordFile],
            environment: ["MEMKEEP_STORE_PATH": source, "MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_LOG_LEVEL": "warning"])
        guard result.status == 0 else { throw BenchError.tool("memkeepd copy-store", result.output) }
        return result.seconds
    }

    func memkeepdRun(_ job: JobName, database name: String) async throws -> (rows: Int, seconds: Double) {
        try await MemoryStore.withStore(at: .postgres(database(name))) { store in
            var configuration = MaintenanceConfiguration()
            configuration.jobs.budget[job] = .seconds(3600)
            configuration.jobs.timeout[job] = .seconds(7200)
            let runner = JobRunner(
                store: store, configuration: configuration,
                logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
            let report = await runner.run(job, trigger: .once, now: now, dryRun: false)
            guard report.status == .ok else { throw BenchError.jobFailed(job.rawValue, report.error ?? "") }
            return (report.changed, report.durationMs / 1000)
        }
    }

    func floor(_ job: JobName, database name: String) throws -> Double {
        let sql = try String(contentsOfFile: "\(scripts)/floor/postgres/\(job.rawValue).sql", encoding: .utf8)
        return try psql(sql, database: name, variables: ["now": "\(now)"]).seconds
    }

    func measure(_ job: JobName, source: String) async throws -> PostgresJobFigures {
        let copy = "memkeep_bench_\(job.rawValue)"
        log("postgres \(job.rawValue): memkeepd")
        try recreate(copy, from: source)
        let ours = try await memkeepdRun(job, database: copy)
        log("postgres \(job.rawValue): floor (psql)")
        try recreate(copy, from: source)
        let floorSeconds = try floor(job, database: copy)
        try psql("DROP DATABASE IF EXISTS \(copy) WITH (FORCE);", database: server.database)
        return PostgresJobFigures(
            job: job.rawValue, rows: ours.rows, memkeepdSeconds: ours.seconds,
            memkeepdRowsPerSecond: Double(ours.rows) / max(ours.seconds, 1e-9), floorSeconds: floorSeconds,
            ratioToFloor: ours.seconds / max(floorSeconds, 1e-9))
    }

    /// Two nodes on one database, heartbeats (`touch`) to both at once from two wrk processes,
    /// and the CPU time the daemons and the PostgreSQL server spent on them.
    func heartbeats(database name: String) async throws
        -> (perNode: [Double], latency: [Percentiles], cpu: HeartbeatCPU)
    {
        try psql(DaemonBenchmarks.serveSetup(), database: name)
        let passwordFile = "\(daemon.workDirectory)/postgres-password"
        try (server.password ?? "").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let environment = [
            "MEMKEEP_STORE_URL": "\(StoreLocation.postgres(database(name)))", "MEMKEEP_STORE_PASSWORD_FILE": passwordFile,
            "MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_ORPHANS_MAX_SLEEP": "1h",
        ]
        let (first, firstPort, _) = try daemon.launch(store: "\(daemon.workDirectory)/unused.db", environment: environment)
        let (second, secondPort, _) = try daemon.launch(store: "\(daemon.workDirectory)/unused.db", environment: environment)
        defer {
            for process in [first, second] {
                process.terminate()
                process.waitUntilExit()
            }
        }
        // The start-up sweep ends the copy's overdue sessions first, as `settled` waits for on SQLite.
        try await MemoryStore.withStore(at: .postgres(database(name))) { store in
            let started = ContinuousClock.now
            while try await store.sessionsPastDeadline(now: Int64(Date().timeIntervalSince1970 * 1000)) > 0,
                ContinuousClock.now - started < .seconds(300)
            {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let seconds = quick ? 3 : 10
        log("postgres: heartbeats to two nodes at once")
        let daemons = [first.processIdentifier, second.processIdentifier]
        let before = (daemons: CPUTime.seconds(of: daemons), server: CPUTime.seconds(of: CPUTime.processes(named: "postgres")))
        async let a = Task.detached { try daemon.heartbeats(base: "http://127.0.0.1:\(firstPort)", seconds: seconds) }.value
        async let b = Task.detached { try daemon.heartbeats(base: "http://127.0.0.1:\(secondPort)", seconds: seconds) }.value
        let results = try await [a, b]
        let heartbeats = Double(results.map(\.requests).reduce(0, +))
        let cpu = HeartbeatCPU(
            daemonMicroseconds: (CPUTime.seconds(of: daemons) - before.daemons) / heartbeats * 1e6,
            serverMicroseconds: (CPUTime.seconds(of: CPUTime.processes(named: "postgres")) - before.server) / heartbeats * 1e6,
            cores: ProcessInfo.processInfo.activeProcessorCount)
        return (results.map(\.rate), results.map(\.latency), cpu)
    }

    func run(source: String, orphanSource: String, memories: Int) async throws -> PostgresReport {
        log("postgres: copying the generated stores in (memkeepd copy-store)")
        let loadSeconds = try load(source, into: "memkeep_bench_source")
        let orphanLoadSeconds = try load(orphanSource, into: "memkeep_bench_orphan_source")
        var jobs: [PostgresJobFigures] = []
        for job in [JobName.purge, .decay] { jobs.append(try await measure(job, source: "memkeep_bench_source")) }
        jobs.append(try await measure(.orphans, source: "memkeep_bench_orphan_source"))
        try recreate("memkeep_bench_serve", from: "memkeep_bench_source")
        let (perNode, latency, cpu) = try await heartbeats(database: "memkeep_bench_serve")
        for name in ["memkeep_bench_serve", "memkeep_bench_source", "memkeep_bench_orphan_source"] {
            try psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE);", database: server.database)
        }
        return PostgresReport(
            memories: memories, copyStoreSeconds: loadSeconds, orphanCopyStoreSeconds: orphanLoadSeconds, jobs: jobs,
            heartbeatsPerNode: perNode, heartbeatLatency: latency, heartbeatCPU: cpu)
    }
}

struct PostgresJobFigures: Codable {
    var job: String
    var rows: Int
    var memkeepdSeconds: Double
    var memkeepdRowsPerSecond: Double
    var floorSeconds: Double
    var ratioToFloor: Double

    enum CodingKeys: String, CodingKey {
        case job, rows
        case memkeepdSeconds = "memkeepd_seconds"
        case memkeepdRowsPerSecond = "memkeepd_rows_per_second"
        case floorSeconds = "floor_seconds"
        case ratioToFloor = "ratio_to_floor"
    }
}

struct PostgresReport: Codable {
    /// Memories of the generated store the figures are of.
    var memories: Int
    var copyStoreSeconds: Double
    var orphanCopyStoreSeconds: Double
    var jobs: [PostgresJobFigures]
    var heartbeatsPerNode: [Double]
    var heartbeatLatency: [Percentiles]
    /// Absent from figures measured before it was.
    var heartbeatCPU: HeartbeatCPU?

    enum CodingKeys: String, CodingKey {
        case memories
        case copyStoreSeconds = "copy_store_seconds"
        case orphanCopyStoreSeconds = "orphan_copy_store_seconds"
        case jobs
        case heartbeatsPerNode = "heartbeats_per_node"
        case heartbeatLatency = "heartbeat_latency"
        case heartbeatCPU = "heartbeat_cpu"
    }

    /// The PostgreSQL section of RESULTS.md: each job against its psql floor (target ≤ 2×), and
    /// heartbeats per node with two nodes on one database (target ≥ 5,000/s).
    func markdown() -> String {
        var lines = [
            "## PostgreSQL (\(memories) memories, `Benchmarks/run --backend postgres`)", "",
            "| job | rows | memkeepd s | rows/s | psql floor s | × floor | target ≤ 2× |", "|---|---|---|---|---|---|---|",
        ]
        for job in jobs {
            lines.append(
                "| \(job.job) | \(job.rows) | \(String(format: "%.2f", job.memkeepdSeconds)) | "
                    + "\(Int(job.memkeepdRowsPerSecond)) | \(String(format: "%.2f", job.floorSeconds)) | "
                    + "\(String(format: "%.2f", job.ratioToFloor)) | \(job.ratioToFloor <= 2 ? "met" : "missed") |")
        }
        lines += [
            "", "| two nodes on one database | node 1 | node 2 | target |", "|---|---|---|---|",
            "| heartbeats/s | \(Int(heartbeatsPerNode[0])) | \(Int(heartbeatsPerNode[1])) | ≥ 5,000 per node: "
                + "\(heartbeatsPerNode.allSatisfy { $0 >= 5000 } ? "met" : "missed") |",
            "| p99 ms | \(String(format: "%.2f", heartbeatLatency[0].p99Ms)) | \(String(format: "%.2f", heartbeatLatency[1].p99Ms)) | |",
        ]
        if let cpu = heartbeatCPU {
            let ceiling = Double(cpu.cores) / (cpu.daemonMicroseconds + cpu.serverMicroseconds) * 1e6
            lines += [
                "",
                "Where the time goes: each heartbeat cost \(Int(cpu.daemonMicroseconds)) µs of CPU in memkeepd (HTTP, "
                    + "the pool, the answer) and \(Int(cpu.serverMicroseconds)) µs in PostgreSQL (the prepared update, "
                    + "which writes a new entry in each of the table's four indexes an open session is in, since moving "
                    + "the deadline moves its index entry and so rules out a HOT update; and the commit). At that "
                    + "cost the machine's \(cpu.cores) cores carry at most \(Int(ceiling)) heartbeats/s in all, "
                    + "\(Int(ceiling / 2)) per node, before wrk takes its share: the target of 5,000 per node needs "
                    + "10,000 in all. What would close it: more cores (the figure is CPU-bound on both sides), or "
                    + "fewer index entries per heartbeat (a deadline index on coarse buckets, so most heartbeats "
                    + "are HOT updates that touch no index).",
            ]
        }
        lines += [
            "", "Copying the generated store in with `memkeepd copy-store` took \(String(format: "%.1f", copyStoreSeconds)) s.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// CPU per heartbeat with two nodes on one database: in the two daemons, in the server.
struct HeartbeatCPU: Codable {
    var daemonMicroseconds: Double
    var serverMicroseconds: Double
    var cores: Int

    enum CodingKeys: String, CodingKey {
        case daemonMicroseconds = "daemon_us"
        case serverMicroseconds = "server_us"
        case cores
    }
}

/// User and system CPU time of processes, from /proc/PID/stat.
enum CPUTime {
    static func seconds(of pids: [Int32]) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return pids.reduce(0) { total, pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else { return total }
            // After "pid (comm)": state is field 3, utime 14 and stime 15.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return total }
            return total + (user + system) / ticks
        }
    }

    /// Every process whose command is `name` (PostgreSQL's server and backends).
    static func processes(named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                let command = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),
                command.trimmingCharacters(in: .whitespacesAndNewlines) == name
            else { return nil }
            return pid
        }
    }
}
