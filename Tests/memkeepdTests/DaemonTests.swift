import Foundation
import MemoryStore
import Testing

/// `memkeepd serve` as systemd runs it: a subprocess with NOTIFY_SOCKET and WATCHDOG_USEC, its
/// HTTP port on loopback, and the store file shared with the test.
@Suite struct DaemonTests {
    static let quiet = [
        "MEMKEEP_JOBS_CONSOLIDATE_JITTER": "0", "MEMKEEP_JOBS_DECAY_JITTER": "0", "MEMKEEP_JOBS_PURGE_JITTER": "0",
        "MEMKEEP_ORPHANS_MAX_SLEEP": "1h",
    ]

    @Test func serveSpeaksTheNotifyProtocolFromReadyToStopping() async throws {
        let m = try Memkeepd(Self.quiet)
        let config = try m.write("memkeep.yaml", "jobs:\n  purge: {interval: 1h}\n")
        let daemon = try await m.serve(["--config", config], watchdog: .milliseconds(400))

        #expect(try await daemon.notify.next("READY=1") != nil)
        // READY=1 comes from the bound listener: the readiness probe answers at once.
        let ready = try await httpGet(daemon.port, "/health/ready")
        #expect(ready.status == 200)
        #expect(ready.json?["status"] as? String == "ready")
        #expect(try await httpGet(daemon.port, "/health/live").status == 200)
        let status = try #require(daemon.notify.all(withPrefix: "STATUS=").last)
        #expect(status.text.contains("next "), "\(status.text)")

        // WATCHDOG=1 keeps coming while the loops keep their word; its period (half of
        // WATCHDOG_USEC) is pinned on a mock clock in SchedulerTests, not on this machine's load.
        for _ in 0..<6 { #expect(try await daemon.notify.next("WATCHDOG=1") != nil) }

        // A valid new file: RELOADING=1, READY=1, and the new configuration is in force.
        _ = try m.write("memkeep.yaml", "jobs:\n  purge: {interval: 2h}\n")
        daemon.signal(SIGHUP)
        #expect(try await daemon.notify.next("RELOADING=1") != nil)
        #expect(try await daemon.notify.next("READY=1") != nil)
        #expect(try await httpGet(daemon.port, "/health").json?["config_generation"] as? Int == 2)

        // An invalid file: the same handshake, and the previous configuration stays.
        _ = try m.write("memkeep.yaml", "jobs:\n  purge: {interval: soon}\n")
        daemon.signal(SIGHUP)
        #expect(try await daemon.notify.next("RELOADING=1") != nil)
        #expect(try await daemon.notify.next("READY=1") != nil)
        #expect(try await httpGet(daemon.port, "/health").json?["config_generation"] as? Int == 2)
        #expect(try await httpGet(daemon.port, "/health/ready").status == 200)

        let (exit, stderr) = await daemon.stop()
        #expect(try await daemon.notify.next("STOPPING=1", timeout: .seconds(1)) != nil)
        #expect(exit == 0, "\(stderr)")
        #expect(stderr.contains("configuration rejected"), "\(stderr)")
        #expect(stderr.contains("memkeep.yaml:2: jobs.purge.interval: must be a duration"), "\(stderr)")
    }

    /// Sessions written by another process before start, with `max_sleep` an hour: only their
    /// deadlines can wake the sweep, so their closing shows the daemon slept until them. How
    /// close to the deadline is pinned on a mock clock in SchedulerTests; here the machine may
    /// be busy, so the test waits for the event and checks it was never early.
    @Test func orphanedSessionsAreClosedByTheirDeadlinesAlone() async throws {
        let m = try Memkeepd(Self.quiet)
        let store = try m.store()
        let first = try await store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 2))
        let second = try await store.startSession(SessionStart(agentID: "a2", idleTimeoutSeconds: 4))
        let open = try await store.startSession(SessionStart(agentID: "a3", idleTimeoutSeconds: 3600))
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        #expect(try await m.waitUntil { try await store.session(id: second.id)?.endedAt != nil })
        var endedAt: [UnixMillis] = []
        for session in [first, second] {
            let closed = try #require(try await store.session(id: session.id))
            #expect(closed.endedReason == .idle)
            #expect(closed.idleSince == session.lastActivityAt)
            let deadline = session.lastActivityAt + session.idleTimeoutSeconds! * 1000
            endedAt.append(try #require(closed.endedAt))
            #expect(endedAt.last! >= deadline, "never before its deadline")
        }
        #expect(try await store.session(id: open.id)?.endedAt == nil)
        // A sweep per deadline (and perhaps one at start), not a poll. A first session closed
        // before the second was due was closed by a sweep of its own; on a machine so busy that
        // the daemon started after both deadlines, one sweep at start closes both.
        let sweeps = try await store.jobRuns(job: "orphans")
        let secondDeadline = second.lastActivityAt + second.idleTimeoutSeconds! * 1000
        let fewest = endedAt[0] < secondDeadline ? 2 : 1
        #expect((fewest...3).contains(sweeps.count), "\(sweeps.count) sweeps")
        #expect(await daemon.stop().status == 0)
    }

    @Test func aFailingJobIsRetriedWithBackoffWhileTheOthersKeepRunning() async throws {
        var m = try Memkeepd(Self.quiet)
        // The purge export directory cannot be created: every purge run fails.
        _ = try m.write("blocker", "a file, not a directory")
        m.environment["MEMKEEP_PURGE_EXPORT_DIR"] = m.directory.appendingPathComponent("blocker/purged").path
        m.environment["MEMKEEP_JOBS_BACKOFF_INITIAL"] = "200ms"
        m.environment["MEMKEEP_JOBS_BACKOFF_MAX"] = "1m"
        m.environment["MEMKEEP_JOBS_DECAY_INTERVAL"] = "500ms"
        #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1, expiredExtra: 20))).status == 0)
        let store = try m.store()
        let session = try await store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 2))
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        #expect(try await m.waitUntil {
            let purges = try await store.jobRuns(job: "purge").count
            let decays = try await store.jobRuns(job: "decay").filter { $0.status == "ok" }.count
            let closed = try await store.session(id: session.id)?.endedAt != nil
            return purges >= 3 && decays >= 3 && closed
        })
        #expect(try await httpGet(daemon.port, "/health").status == 200)
        let (exit, stderr) = await daemon.stop()
        #expect(exit == 0)

        let purges = try await store.jobRuns(job: "purge").reversed()
        #expect(purges.count >= 3 && purges.allSatisfy { $0.status == "failed" }, "\(purges.map(\.status))")
        #expect(purges.first?.error?.contains("blocker/purged: Not a directory") == true, "\(purges.first?.error ?? "")")
        let starts = purges.map(\.startedAt)
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        #expect(gaps.first.map { $0 >= 200 } == true, "first retry after \(gaps)")
        #expect(zip(gaps.dropFirst(), gaps).allSatisfy { $0 > $1 }, "gaps grow: \(gaps)")
        #expect(try await store.jobRuns(job: "decay").filter { $0.status == "ok" }.count >= 3)
        #expect(try await store.session(id: session.id)?.endedReason == .idle)
        #expect(stderr.contains("job purge failed"), "\(stderr)")
        #expect(try await store.counts(now: SystemClock().now()).expiredMemories == 20)
    }

    @Test func runOfAJobTheDaemonHoldsExits75AndSigtermLetsTheRunningBatchCommit() async throws {
        var m = try Memkeepd(Self.quiet)
        m.environment["MEMKEEP_PURGE_BATCH_SIZE"] = "50"
        // Batches of exactly 50 rows (no time bound), so a whole batch shows in the count.
        m.environment["MEMKEEP_JOBS_MAX_BATCH_TIME"] = "1h"
        // 400 batches a second apart: the run outlasts anything the test does while it holds.
        m.environment["MEMKEEP_JOBS_BATCH_PAUSE"] = "1s"
        #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1, expiredExtra: 20_000))).status == 0)
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        #expect(try await m.waitForLease("purge"))
        let competing = try await m.run("run", "purge")
        #expect(competing.status == 75, "\(competing.stdout) \(competing.stderr)")

        let (exit, stderr) = await daemon.stop()
        #expect(exit == 0, "\(stderr)")
        #expect(try await daemon.notify.next("STOPPING=1", timeout: .seconds(1)) != nil)
        let store = try m.store()
        let left = try await store.counts(now: SystemClock().now()).expiredMemories
        #expect(left > 0 && left < 20_000)
        #expect(left % 50 == 0, "only whole batches are deleted: \(left) left")
        // Stopped between batches, not cancelled: the run is recorded as an incomplete success.
        let run = try #require(try await store.jobRuns(job: "purge").first)
        #expect(run.status == "ok" && !run.complete, "\(run)")
        #expect(try await store.leaseHolder(job: "purge", now: SystemClock().now()) == nil)
    }

    @Test func anIdleDaemonMakesNoStoreAccessBetweenItsDeadlines() async throws {
        let m = try Memkeepd(Self.quiet)
        let store = try m.store()
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        // The start-up runs of the three periodic jobs; the next ones are an hour away. The bound
        // only ends a failed test: a busy machine can take long over three runs on an empty store.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, try await store.jobRuns().filter({ $0.finishedAt != nil }).count < 3 {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))

        let before = try await httpGet(daemon.port, "/metrics").body
        try await Task.sleep(for: .seconds(3))
        let after = try await httpGet(daemon.port, "/metrics").body
        #expect(await daemon.stop().status == 0)

        let accesses = (Self.sample(before, "memkeep_store_accesses_total"), Self.sample(after, "memkeep_store_accesses_total"))
        // The only access in between is the first scrape's own count of sessions and memories.
        #expect(accesses.1 - accesses.0 == 1, "\(accesses)")
        #expect(Self.sample(before, "memkeep_scheduler_wakeups_total") == Self.sample(after, "memkeep_scheduler_wakeups_total"))
        #expect(try await store.jobRuns().count == 3)
        for name in ["memkeep_job_runs_total{", "memkeep_job_duration_seconds_bucket{", "memkeep_sessions{", "memkeep_memories{"] {
            #expect(after.contains(name), "\(name) missing from /metrics")
        }
    }

    /// The listener cannot bind: the group cancels the scheduler, whose loops used to spin on
    /// their cancelled sleeps, so the process never exited and never said READY.
    @Test func serveExitsWhenItsPortIsTaken() async throws {
        let (holder, port) = loopbackSocket()
        defer { close(holder) }
        #expect(listen(holder, 1) == 0)
        let m = try Memkeepd(Self.quiet.merging(["MEMKEEP_HTTP_LISTEN": "127.0.0.1:\(port)"]) { $1 })
        let result = try await m.run("serve")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("in use"), "\(result.stderr)")
    }

    @Test func serveWithABadConfigurationExits78BeforeBinding() async throws {
        let m = try Memkeepd(["MEMKEEP_JOBS_DECAY_TIMEOUT": "1s", "MEMKEEP_JOBS_DECAY_BUDGET": "5s"])
        let result = try await m.run("serve")
        #expect(result.status == 78)
        #expect(result.stderr.contains("jobs.decay.timeout: must be longer than the budget"), "\(result.stderr)")
    }

    static func sample(_ text: String, _ name: String) -> Double {
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }
}
