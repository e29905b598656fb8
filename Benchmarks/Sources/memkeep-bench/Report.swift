import Foundation
import Maintenance

/// Every figure of a run, written as JSON and rendered as `Benchmarks/RESULTS.md`.
struct BenchReport: Codable {
    var startedAt: String
    var machine: [String: String]
    var options: [String: String]
    var store: Generator.Summary
    var orphanStoreSessions: Int
    var jobs: [JobFigures]
    var http: DaemonBenchmarks.HTTPFigures
    var idle: DaemonBenchmarks.IdleFigures
    var embeddings: EmbeddingBenchmarks.Figures
    /// The daemon on the same store with `embeddings.provider: none`.
    var residentMegabytesWithoutModel: Double
    /// That figure by kind (`DaemonBenchmarks.residentBreakdown`).
    var residentWithoutModelBreakdown: [String: Double]?
    var totalSeconds: Double
    /// Jobs measured again since the full run (`--only`), with when.
    var remeasured: [String: String]?
    /// The scaling curve (`--scale`, or the small one of `--quick`), kept across full runs.
    var scale: ScaleReport?
    /// The PostgreSQL figures (`--backend postgres`), kept across runs of the other figures.
    var postgres: PostgresReport?

    enum CodingKeys: String, CodingKey {
        case startedAt = "started_at"
        case machine, options, store
        case orphanStoreSessions = "orphan_store_sessions"
        case jobs, http, idle, embeddings
        case residentMegabytesWithoutModel = "resident_mb_without_model"
        case residentWithoutModelBreakdown = "resident_without_model_breakdown_mb"
        case totalSeconds = "total_seconds"
        case remeasured, scale, postgres
    }

    struct Row {
        var figure: String
        var value: String
        var floor: String
        var ratio: String
        var target: String
        var met: Bool?
    }

    func job(_ name: String) -> JobFigures? { jobs.first { $0.job == name } }

    static func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
    static func rate(_ value: Double) -> String { value >= 1000 ? String(format: "%.0f/s", value) : String(format: "%.1f/s", value) }

    /// The resident memory by kind, at start without the model and after traffic with it.
    func whereMemoryGoes() -> [String] {
        let kinds = [
            ("memkeepd", "memkeepd's code and data"), ("swift_runtime_and_foundation", "the Swift runtime and Foundation"),
            ("other_libraries", "other libraries (SQLite, OpenBLAS, libc, libstdc++)"), ("model", "the mapped model"),
            ("store_files", "the store's mapped files"), ("anonymous", "anonymous memory (malloc's heaps: SQLite's page caches, the vector cache, buffers; thread stacks)"),
        ]
        func line(_ title: String, _ breakdown: [String: Double]?) -> String? {
            guard let breakdown else { return nil }
            return "- **\(title)**: " + kinds.compactMap { key, name in breakdown[key].map { "\(name) \(Self.f($0)) MB" } }
                .joined(separator: "; ") + "."
        }
        let lines = [
            line("After start, without the model (\(Self.f(residentMegabytesWithoutModel)) MB)", residentWithoutModelBreakdown),
            line("After traffic, with the model (\(Self.f(idle.residentMegabytesAfterTraffic)) MB)", idle.residentAfterTrafficBreakdown),
        ].compactMap { $0 }
        guard let start = residentWithoutModelBreakdown, !lines.isEmpty else { return [] }
        let code = ["memkeepd", "swift_runtime_and_foundation", "other_libraries"].reduce(0) { $0 + (start[$1] ?? 0) }
        let analysis = [
            "- **Code is most of it.** \(Self.f(code)) MB of the start figure is code and data mapped from the binary and its libraries, more than the 30 MB target alone. Of the Swift libraries, Foundation's (libFoundation, FoundationEssentials, FoundationInternationalization and the ICU library) are about 11 MB resident. FoundationEssentials cannot replace Foundation in this process: GRDB (in 57 of its files) and Yams import Foundation unconditionally, so it is loaded whatever memkeepd’s own modules import. The NIO event loops are already sized to the machine (Hummingbird's default group: one thread per core, 2 here); the process runs 9 threads.",
            "- **Anonymous memory** at start is mostly the writer's page cache (16 MiB by `PRAGMA cache_size`, chosen for the jobs' throughput), filled by the start-up orphan sweep of this store; a daemon started on an empty store has about 5 MB. After traffic it adds the two readers' caches, the recalled agent's vectors (10,000 × 384 floats, 15 MB), the query-vector cache, the model's activation and OpenBLAS buffers, and what malloc keeps from freed blocks in its per-thread arenas (`MALLOC_ARENA_MAX=2` moved the after-traffic figure by less than the run-to-run spread of about 20 MB in three runs each).",
            "- **What would close it:** a binary without Foundation (GRDB and Yams replaced or patched to import FoundationEssentials), `-Osize` for the code resident at start, and a smaller writer cache traded against decay and purge throughput. None is taken here: each gives a few megabytes against a target 30 MB or more away.",
        ]
        return ["## Where the memory goes (/proc/PID/smaps, resident)", ""] + lines + analysis + [""]
    }

    /// What the profile (perf record on `serve` under the same wrk load) shows for the
    /// embedding figures, with this run's numbers.
    func whereTheTimeGoes() -> [String] {
        let e = embeddings
        return [
            "## Where the time goes (semantic recall)",
            "",
            "- **One query's forward pass** takes \(Self.f(e.singleText.p50Ms, 2)) ms for \(e.singleTextTokens) tokens (\(Self.f(e.singleTextGflops)) GFLOP/s, against \(Self.f(e.batchedGflops)) GFLOP/s for batches): with 8 rows, each GEMM streams its weights from memory for little arithmetic, and the six layers' 42 MB of F32 weights are read once per query. Recall with a new question each time is that pass plus the ranking, and with 4 connections on 2 cores two requests share each core, so its p50 is about twice the pass. Ways down, not taken here: F16 or INT8 weights (half or a quarter of the bytes), and batching the queries that arrive together into one pass.",
            "- **Recall of a repeated question** skips the pass (the query-vector cache) and spends its time in SQLite: the candidate rows, and the access bookkeeping, a write transaction that serialises the 4 connections and makes every reader re-read the pages it changed (`pread` is a fifth of the profile), then JSON encoding.",
            "- **Stores at 100/s** commit without the model; their p99 comes from the `embed` job's forward passes (a batch of the last few stores, \(Self.f(1000 / e.batchedTextsPerSecond, 1)) ms a text) running on the same two cores as the HTTP threads: a store that arrives while both cores are in a GEMM waits for one. The job keeps up (backlog \(http.embedBacklogAfterPacedStores) when the stores end, emptied in \(Self.f(http.embedDrainSeconds, 2)) s).",
            "- **Resident memory**: the weights are mapped, not read, so only the pages a forward pass touches count (\(Self.f(idle.modelResidentMegabytes)) MB of the 86.7 MiB file after traffic: the six layers and the rows of the tokens seen); the rest of serve's figure is SQLite's page caches and the vector copy of the recalled agent.",
            "",
        ]
    }

    /// What the profile of a budgeted run (`perf record`, and the job's phases timed apart)
    /// shows for consolidation, with this run's numbers.
    func whereConsolidationTimeGoes() -> [String] {
        guard let figures = job("consolidate") else { return [] }
        return [
            "## Where the time goes (consolidation)",
            "",
            "- **Writing, not deciding.** The job reads a page of 200 agents' sessions in one query, each chunk's facts in one query, the page's change statements in one full-text query, and plans in memory; planning the next chunk overlaps writing this one. In a 20-second budgeted run on this store the writes took 17 s, the reads 2.4 s and the planning about 3.5 s, on the other core. memkeepd ran at \(Self.rate(figures.memkeepdRowsPerSecond)), the hand-written loop at \(Self.rate(figures.handwrittenRowsPerSecond)), the floor at \(Self.rate(figures.floorRowsPerSecond)).",
            "- **Why writing costs that much.** A chunk (60 sessions, about 270 sources and 40 topic summaries) is one transaction of about 25 ms, and it dirties about a thousand pages: the archived rows are spread over the table, and so are their index entries, the fate rows (keyed by source id) and the summaries' full-text segments. Every transaction writes its pages to the WAL and the checkpoints copy them again; the kernel's write path is the top of the profile. The floor writes each page once in one transaction; the hand-written loop writes far less per session (one summary per 30 sessions, no fates, no vectors looked up). With 1,000 sessions per transaction the write time fell by a third (on the quick store), but each transaction then held the write lock for about 150 ms, against the design's short transactions.",
            "- **Ways down, not taken here:** fate rows keyed by consolidation (appended, not scattered) with the consolidation id on the memory row; time-bounded transactions that grow while no foreground writer waits (the performance issue); a larger `wal_autocheckpoint` during a run.",
            "",
        ]
    }

    /// What the profiles and the attribution runs show for the heartbeat path, purge, decay and
    /// the foreground writer, with this run's numbers.
    func whereWriteTimeGoes() -> [String] {
        guard let purge = job("purge"), let decay = job("decay"), let orphans = job("orphans") else { return [] }
        func writer(_ figures: JobFigures) -> String {
            guard let busy = figures.writerDuringMemkeepd, let polling = figures.pollingWriterDuringMemkeepd else { return "" }
            return "p99 \(Self.f(busy.p99Ms, 2)) ms, max \(Self.f(busy.maxMs, 1)) ms during \(figures.job) (a writer polling every 1 ms: p99 \(Self.f(polling.p99Ms, 2)) ms)"
        }
        return [
            "## Where the time goes (heartbeats, purge, decay, orphans, the foreground writer)",
            "",
            "- **Heartbeats** (\(Self.rate(http.touchRequestsPerSecond)), p99 \(Self.f(http.touchLatency.p99Ms, 2)) ms): a `perf` profile of `serve` under this load put 19 % of the CPU in GRDB's statement authorizer and 9 % in `DatabaseRegion.union`, both paid when a statement is prepared, so the hot statements are now cached; the next 18 % was `JSONEncoder`, now a hand-written writer with the same bytes. Group commit carries about 14 heartbeats per transaction, so the commit is not the cost: the remaining time is HTTP parsing, Swift reference counting and the two SQLite statements of each heartbeat (the activity update returns the session with `RETURNING`). The figure moves with the machine: the six heartbeat runs of 2026-11-26 on this store's sizes (three full runs and the three points of the scaling curve) gave 11,949 to 16,200/s with p99 4.39 to 5.90 ms when nothing else ran (one at 40 ms p99 with a disturbance that also showed in that run's paced stores), so the 15,000/s target is met in some runs and missed in others. Ways on: fewer allocations per request (the JSON answer built as bytes), and a heartbeat that does not read the session back when the client does not need it.",
            "- **Purge** (\(Self.rate(purge.memkeepdRowsPerSecond)), floor \(Self.rate(purge.floorRowsPerSecond))): due rows are read from the expiry index alone and deleted in rowid order, so each table page is written about once per transaction. A `perf` profile of `memkeepd run purge` on this store has half of the CPU in the kernel: writing the WAL and checkpointing it. The floor writes each page once in one transaction; 10 ms transactions write the index and full-text pages every row touches again and again, and the writer's automatic checkpoint (every 1,000 WAL pages) copies them to the database each time. Measured on this store (`memkeepd run purge`, 100,223 expired rows): `wal_autocheckpoint` 10,000 pages took the run from 31.7 s to 20.9 s, `mmap_size` 1 GiB to 28.8 s, FTS5 `automerge` 0 with `crisismerge` 64, or `automerge` 16, changed nothing (32.1 s, 31.1 s). The larger checkpoint interval was not kept: the checkpoint runs on the writer connection, and heartbeats queued behind a 40 MB checkpoint took their p99 from 4.7 ms to 40 ms. What would close the gap: checkpoints off the writer connection (a second connection running passive checkpoints when the WAL passes a size, which a writer never waits for), then a large WAL during a run.",
            "- **Decay** (\(Self.rate(decay.memkeepdRowsPerSecond)), floor \(Self.rate(decay.floorRowsPerSecond))): the same store with `jobs.max_batch_time` of an hour decayed 78,289 rows/s, 1.16× the floor: the 10 ms bound costs decay about a fifth, in commits and checkpoints, as for purge.",
            "- **Orphans** (\(orphans.rows) sessions in \(Self.f(orphans.memkeepdSeconds * 1000, 0)) ms, floor \(Self.f(orphans.floorSeconds * 1000, 0)) ms): the due sessions are spread over the million-row table, so both read about one table page per session; memkeepd ends them in transactions of at most 10 ms (`jobs.max_batch_time`; before the sweep had the bound, 21 transactions of 500 sessions, about 23 ms each), each committed and checkpointed, where the floor commits once. The same checkpointer would close most of it. The job is short (well under a second) and moves with the machine: in the three full runs of 2026-11-26 it took 626, 657 and 936 ms against floors of 426, 540 and 631 ms, and the hand-written loop was behind memkeepd in the first two and ahead (13,052/s against 10,682/s) in the third.",
            "- **The foreground writer** is another process (\(writer(purge)); \(writer(decay))). SQLite's busy handler makes it sleep 1, 2, 5, 10, 15, 20, 25, 25 ms between attempts: with the job pausing 2 ms between transactions it missed eight attempts in a row at its p99 (104 ms in the run before this one). Jobs now read the store's `data_version` between batches and, while another process is writing, pause 30 ms (`jobs.contended_pause`), longer than the handler's longest sleep, so its next attempt finds the lock free. API writes inside the daemon do not poll: they queue on the store's writer and wait at most one transaction. The max follows the machine more than the job: the same writer *alone*, with nothing else running, had a max of 170 to 280 ms in every run of 2026-11-26, so a run in which such a stall falls while the job runs reads above 100 ms (the three full runs of that day: max 54, 54 and 79 ms during purge, 29, 34 and 213 ms during decay).",
            "",
        ]
    }

    /// The scaling tables, the chart (`chart`, beside RESULTS.md) and each job's cost per
    /// changed row across the sizes.
    func scaleSection(chart: String) -> [String] {
        guard let scale else { return [] }
        var out = [
            "## Scaling (`Benchmarks/run --scale`, \(scale.startedAt), \(Self.f(scale.totalSeconds, 0)) s)", "",
            "The same jobs, writer and API on generated stores of \(scale.points.map { ScaleChart.count(Double($0.memories)) }.joined(separator: ", ")) memories (the same shares of expired, archived and orphaned data, so the rows each job changes grow with the store; the orphan case is a store of as many sessions, 1% due), and recall for agents of \(scale.points.first?.recall.map { ScaleChart.count(Double($0.agentMemories)) }.joined(separator: ", ") ?? "") memories in each. The agents' vectors are seeded random unit vectors written by the generator (ranking costs the same whatever they point at); the question is embedded by the built-in model once and then cached.",
            "", "![rate against size](\(chart))", "",
            "| store | job | rows changed | memkeepd | floor | ratio | µs per row | writer p99 / max during memkeepd |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for point in scale.points {
            for job in point.jobs {
                let writer = job.writerDuringMemkeepd.map { "\(Self.f($0.p99Ms, 2)) / \(Self.f($0.maxMs, 1)) ms" } ?? "–"
                out.append("| \(ScaleChart.count(Double(point.memories))) (\(point.storeBytes / 1_048_576) MiB) | \(job.job) | \(job.rows) | \(Self.f(job.memkeepdSeconds * 1000)) ms, \(Self.rate(job.memkeepdRowsPerSecond)) | \(Self.f(job.floorSeconds * 1000)) ms, \(Self.rate(job.floorRowsPerSecond)) | \(Self.f(job.memkeepdSeconds / max(job.floorSeconds, 1e-9), 2))× | \(Self.f(job.microsecondsPerRow, 1)) | \(writer) |")
            }
        }
        out.append("")
        let agents = scale.points.first?.recall.map { ScaleChart.count(Double($0.agentMemories)) } ?? []
        out.append("| store | heartbeats (32 connections) | touch p50 / p99 | recall p50 / p99, agent of \(agents.joined(separator: " / ")) memories |")
        out.append("|---|---|---|---|")
        for point in scale.points {
            let recall = point.recall.map { "\(Self.f($0.latency.p50Ms, 2)) / \(Self.f($0.latency.p99Ms, 2)) ms" }.joined(separator: "; ")
            out.append("| \(ScaleChart.count(Double(point.memories))) | \(Self.rate(point.touchRequestsPerSecond)) | \(Self.f(point.touchLatency.p50Ms, 2)) / \(Self.f(point.touchLatency.p99Ms, 2)) ms | \(recall) |")
        }
        out.append("")
        for job in [JobName.purge, .decay, .orphans] {
            let costs = scale.points.compactMap { $0.job(job)?.microsecondsPerRow }
            guard let first = costs.first, let last = costs.last else { continue }
            out.append("- **\(job.rawValue)**: \(costs.map { Self.f($0, 1) }.joined(separator: " → ")) µs per changed row from the smallest store to the largest (\(Self.f(last / first, 2))×, for \(Self.f(Double(scale.points.last!.memories) / Double(scale.points.first!.memories), 0))× the store).")
        }
        out.append("")
        out.append(contentsOf: whereScaleCostGoes(scale))
        return out
    }

    /// Why each curve has its shape, with the run's figures.
    func whereScaleCostGoes(_ scale: ScaleReport) -> [String] {
        guard let small = scale.points.first, let large = scale.points.last, small.memories < large.memories,
            let purgeSmall = small.job(.purge), let purgeLarge = large.job(.purge)
        else { return [] }
        func recall(_ point: ScalePoint) -> String {
            point.recall.map { "\(Self.f($0.latency.p50Ms, 1)) ms" }.joined(separator: ", ")
        }
        let agents = small.recall.map { ScaleChart.count(Double($0.agentMemories)) }.joined(separator: ", ")
        return [
            "### Where cost follows the work, and where it does not", "",
            "- **Decay and the orphan sweep** cost the same per changed row or less in larger stores: each reads its rows through an index range (orphans) or in rowid order (archived decay) and rewrites few indexed columns. Decay is dearer per row in the smallest store because each run's fixed work (its run record, lease and the prune steps) is spread over fewer rows.",
            "- **Purge** costs \(Self.f(purgeSmall.microsecondsPerRow, 0)) µs per deleted row at \(ScaleChart.count(Double(small.memories))) and \(Self.f(purgeLarge.microsecondsPerRow, 0)) µs at \(ScaleChart.count(Double(large.memories))), and the floor slows too, less (\(Self.rate(purgeSmall.floorRowsPerSecond)) to \(Self.rate(purgeLarge.floorRowsPerSecond)); the ratio goes from \(Self.f(purgeSmall.memkeepdSeconds / purgeSmall.floorSeconds, 2))× to \(Self.f(purgeLarge.memkeepdSeconds / purgeLarge.floorSeconds, 2))×). A deleted row also leaves the agent, session and expiry indexes, the full-text index (one entry per term) and the vector table, and those entries lie all over their indexes: the rows of one transaction share fewer index pages in a larger store, so more pages are read and written per row, and a \(large.storeBytes / 1_048_576) MiB store no longer fits the writer's 16 MiB cache. This is the cost of the secondary indexes themselves, which the floor pays too, once; memkeepd pays it again in every short transaction and its checkpoint, and checkpoints off the writer connection (see above) would cut that rewriting.",
            "- **The foreground writer** keeps its p99 at the contended pause's level whatever the size: a transaction is bounded by time, not by what it finds.",
            "- **Heartbeats** do not depend on the store's size (\(scale.points.map { Self.rate($0.touchRequestsPerSecond) }.joined(separator: ", "))): a heartbeat touches one session row by its primary key. In this curve the \(ScaleChart.count(Double(large.memories))) store's heartbeat p99 (\(Self.f(large.touchLatency.p99Ms, 2)) ms) was measured 2 s after READY, most likely while the daemon's start-up sweep was still ending that store's 2% of overdue sessions (about 22,000, at about 17,000 a second, then their checkpoint); the benchmark now waits for that sweep to finish before it measures.",
            "- **Recall** grows with the agent's memories and not with the store: p50 \(recall(small)) for agents of \(agents) memories in the \(ScaleChart.count(Double(small.memories))) store, \(recall(large)) in the \(ScaleChart.count(Double(large.memories))) one. From 10,000 to 50,000 memories it jumps more than fivefold: 50,000 vectors of 384 floats are 77 MB, more than the vector cache (`store.vector_cache_mb`, 64 MiB), so every recall of that agent reads and decodes its vectors from the store again. What would close it: a cache sized to the largest agent, vectors stored as F16 (half the bytes), and for agents this large an approximate nearest-neighbour index instead of a full scan.",
            "",
        ]
    }

    /// The tables: one per area, each target of DESIGN.md with its figure and whether it is met.
    func markdown(chart: String = "scale.svg") -> String {
        var out = ["# Benchmark results", ""]
        out.append("Generated by `Benchmarks/run` (\(options["mode"] ?? "")) on \(startedAt); the raw figures are in `results.json`.")
        out.append("")
        if let remeasured, !remeasured.isEmpty {
            out.append("Measured again since, alone (`Benchmarks/run --only NAMES`, same store and seed): \(remeasured.sorted { $0.key < $1.key }.map { "\($0.key) on \($0.value)" }.joined(separator: ", ")).")
            out.append("")
        }
        out.append("Machine: \(machine.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")).")
        out.append("")
        out.append(
            "Store: \(store.memories) memories in \(store.sessions) sessions of \(store.agents) agents (heavy agent: \(store.heavyAgentMemories) memories), \(store.expired) expired, \(store.archived) archived, \(store.orphaned) open sessions past their deadline; \(store.bytes / 1_048_576) MiB. Orphan case: a separate store of \(orphanStoreSessions) sessions, 1% due.")
        out.append("")
        out.append("Ratio = memkeepd's time over the floor's: the same effect as set-based SQL run by the `sqlite3` CLI on an identical copy. The hand-written alternative is a Python `sqlite3` loop committing every 100 rows.")
        out.append("")
        func table(_ title: String, _ rows: [Row]) {
            out.append("## \(title)")
            out.append("")
            out.append("| figure | memkeepd | floor | ratio | target | met |")
            out.append("|---|---|---|---|---|---|")
            for row in rows {
                out.append("| \(row.figure) | \(row.value) | \(row.floor) | \(row.ratio) | \(row.target) | \(row.met.map { $0 ? "met" : "**missed**" } ?? "–") |")
            }
            out.append("")
        }
        var jobRows: [Row] = []
        for figures in jobs {
            let target: (String, Bool?) =
                switch figures.job {
                case "purge", "decay": ("≤ 1.5× floor", figures.ratioToFloor <= 1.5)
                case "orphans": ("≤ 1.2× floor", figures.ratioToFloor <= 1.2)
                default: ("", nil)
                }
            // Ahead of the hand-written script on every job; purge and consolidation by 3×.
            let ahead = ["purge", "consolidate"].contains(figures.job) ? 3.0 : 1.0
            let unit = figures.job == "consolidate" ? "sessions" : figures.job == "orphans" ? "sessions closed" : "rows"
            jobRows.append(Row(
                figure: "\(figures.job): \(figures.rows) \(unit)",
                value: "\(Self.f(figures.memkeepdSeconds * 1000)) ms, \(Self.rate(figures.memkeepdRowsPerSecond))",
                floor: "\(Self.f(figures.floorSeconds * 1000)) ms, \(Self.rate(figures.floorRowsPerSecond))",
                ratio: Self.f(figures.ratioToFloor, 2) + "×", target: target.0, met: target.1))
            jobRows.append(Row(
                figure: "\(figures.job): hand-written Python\(figures.handwrittenComplete ? "" : " (stopped at its time limit)")",
                value: Self.rate(figures.handwrittenRowsPerSecond), floor: Self.rate(figures.floorRowsPerSecond),
                ratio: Self.f(figures.handwrittenRatioToFloor, 2) + "×",
                target: ahead > 1 ? "memkeepd ≥ \(Self.f(ahead, 0))× hand-written" : "memkeepd ahead",
                met: figures.memkeepdRowsPerSecond >= ahead * figures.handwrittenRowsPerSecond))
        }
        table("Jobs", jobRows)
        var writerRows: [Row] = []
        for figures in jobs {
            guard let alone = figures.writerAlone, let ours = figures.writerDuringMemkeepd, let floor = figures.writerDuringFloor
            else { continue }
            writerRows.append(Row(
                figure: "insert p50 / p99 / max during \(figures.job)",
                value: "\(Self.f(ours.p50Ms, 2)) / \(Self.f(ours.p99Ms, 2)) / \(Self.f(ours.maxMs, 1)) ms",
                floor: "\(Self.f(floor.p50Ms, 2)) / \(Self.f(floor.p99Ms, 2)) / \(Self.f(floor.maxMs, 1)) ms",
                ratio: "alone: \(Self.f(alone.p50Ms, 2)) / \(Self.f(alone.p99Ms, 2)) / \(Self.f(alone.maxMs, 1)) ms",
                target: "p99 < 25 ms, max < 100 ms", met: ours.p99Ms < 25 && ours.maxMs < 100))
            if let polling = figures.pollingWriterDuringMemkeepd {
                writerRows.append(Row(
                    figure: "same, the writer retrying a locked store every 1 ms (no busy handler)",
                    value: "\(Self.f(polling.p50Ms, 2)) / \(Self.f(polling.p99Ms, 2)) / \(Self.f(polling.maxMs, 1)) ms",
                    floor: "", ratio: "", target: "", met: nil))
            }
        }
        table("Foreground writer (200 inserts/s) while a job runs", writerRows)
        table("HTTP API on loopback (wrk)", [
            Row(figure: "heartbeats (touch), 32 connections", value: Self.rate(http.touchRequestsPerSecond), floor: "", ratio: "",
                target: "≥ 15,000/s", met: http.touchRequestsPerSecond >= 15000),
            Row(figure: "touch latency p50 / p99", value: "\(Self.f(http.touchLatency.p50Ms, 2)) / \(Self.f(http.touchLatency.p99Ms, 2)) ms",
                floor: "", ratio: "", target: "p99 < 5 ms", met: http.touchLatency.p99Ms < 5),
            Row(figure: "hybrid recall p50, agent with \(http.recallAgentMemories) memories, 4 connections, query embedding included",
                value: "\(Self.f(http.recallLatency.p50Ms, 2)) ms (\(Self.rate(http.recallRequestsPerSecond)))",
                floor: "", ratio: "", target: "p50 < 5 ms", met: http.recallLatency.p50Ms < 5),
            Row(figure: "hybrid recall p99, same", value: "\(Self.f(http.recallLatency.p99Ms, 2)) ms",
                floor: "", ratio: "", target: "p99 < 10 ms", met: http.recallLatency.p99Ms < 10),
            Row(figure: "hybrid recall p50 / p99 with a new question each time (every query embedded), 4 connections",
                value: "\(Self.f(http.newQueryRecallLatency.p50Ms, 2)) / \(Self.f(http.newQueryRecallLatency.p99Ms, 2)) ms (\(Self.rate(http.newQueryRecallRequestsPerSecond)))",
                floor: "", ratio: "", target: "p50 < 5 ms, p99 < 10 ms",
                met: http.newQueryRecallLatency.p50Ms < 5 && http.newQueryRecallLatency.p99Ms < 10),
            Row(figure: "store p50 / p99 at \(Self.rate(http.pacedStoreRate)), the embed job embedding them",
                value: "\(Self.f(http.pacedStoreLatency.p50Ms, 2)) / \(Self.f(http.pacedStoreLatency.p99Ms, 2)) ms",
                floor: "", ratio: "", target: "p99 < 10 ms", met: http.pacedStoreLatency.p99Ms < 10),
            Row(figure: "embed backlog when those stores end; time to empty it",
                value: "\(http.embedBacklogAfterPacedStores) memories; \(Self.f(http.embedDrainSeconds, 2)) s", floor: "", ratio: "",
                target: "keeps up (backlog < 1 s of stores)", met: http.embedBacklogAfterPacedStores < Int(http.pacedStoreRate)),
            Row(figure: "store p50 / p99, 4 connections flat out",
                value: "\(Self.f(http.storeLatency.p50Ms, 2)) / \(Self.f(http.storeLatency.p99Ms, 2)) ms (\(Self.rate(http.storeRequestsPerSecond)))",
                floor: "", ratio: "", target: "", met: nil),
        ])
        let e = embeddings
        table("Built-in embedding model (\(e.model), F32, OpenBLAS on \(e.threads) thread)", [
            Row(figure: "short memories, batches of 64 (\(e.batchTexts) texts, \(Self.f(e.meanTokens)) tokens each)",
                value: "\(Self.rate(e.batchedTextsPerSecond)), \(Self.f(e.batchedGflops)) GFLOP/s", floor: "", ratio: "",
                target: "≥ 150/s per core", met: e.batchedTextsPerSecond >= 150),
            Row(figure: "one query (\(e.singleTextTokens) tokens) p50 / p99",
                value: "\(Self.f(e.singleText.p50Ms, 2)) / \(Self.f(e.singleText.p99Ms, 2)) ms, \(Self.f(e.singleTextGflops)) GFLOP/s",
                floor: "", ratio: "", target: "", met: nil),
            Row(figure: "backfill by `memkeepd run embed` (\(e.backfillMemories) memories, read + embed + write)",
                value: "\(Self.rate(e.backfillPerSecond)) (\(Self.f(e.backfillSeconds)) s)", floor: "", ratio: "", target: "", met: nil),
            Row(figure: "resident model weights after traffic (mapped model.safetensors, of 86.7 MiB)",
                value: "\(Self.f(idle.modelResidentMegabytes)) MB", floor: "", ratio: "",
                target: "≤ 60 MB", met: idle.modelResidentMegabytes <= 60),
        ])
        table("Idle daemon", [
            Row(figure: "resident memory after start, without the model", value: "\(Self.f(residentMegabytesWithoutModel)) MB",
                floor: "", ratio: "", target: "< 30 MB", met: residentMegabytesWithoutModel < 30),
            Row(figure: "resident memory after start, with the model", value: "\(Self.f(idle.residentMegabytesAtStart)) MB",
                floor: "", ratio: "", target: "< 60 MB (30 MB more)", met: idle.residentMegabytesAtStart < 60),
            Row(figure: "resident memory after \(idle.trafficRequests) requests (over an hour of traffic at 10 req/s), with the model",
                value: "\(Self.f(idle.residentMegabytesAfterTraffic)) MB", floor: "", ratio: "", target: "< 60 MB",
                met: idle.residentMegabytesAfterTraffic < 60),
            Row(figure: "the same, the model's mapped pages excluded",
                value: "\(Self.f(idle.residentMegabytesAfterTraffic - idle.modelResidentMegabytes)) MB", floor: "", ratio: "",
                target: "< 30 MB", met: idle.residentMegabytesAfterTraffic - idle.modelResidentMegabytes < 30),
            Row(figure: "wake-ups per minute with nothing due (\(Self.f(idle.idleSeconds, 0)) s observed)",
                value: Self.f(idle.wakeUpsPerMinute, 1), floor: "", ratio: "", target: "0 but its own deadlines",
                met: idle.wakeUpsPerMinute == 0),
            Row(figure: "store accesses per minute with nothing due", value: Self.f(idle.storeAccessesPerMinute, 1), floor: "",
                ratio: "", target: "0", met: idle.storeAccessesPerMinute == 0),
            Row(figure: "start to READY=1 (migrations on the big store, listener bound)", value: "\(Self.f(idle.readyMilliseconds)) ms",
                floor: "", ratio: "", target: "≤ 200 ms", met: idle.readyMilliseconds <= 200),
        ])
        out.append(contentsOf: whereMemoryGoes())
        out.append(contentsOf: whereTheTimeGoes())
        out.append(contentsOf: whereConsolidationTimeGoes())
        out.append(contentsOf: whereWriteTimeGoes())
        out.append(contentsOf: scaleSection(chart: chart))
        out.append("Total run time: \(Self.f(totalSeconds)) s.")
        if let postgres { out += ["", postgres.markdown()] }
        return out.joined(separator: "\n") + "\n"
    }
}
