import Foundation
import Logging
import Maintenance
import MemoryStore
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@Suite struct RunnerLimitTests {
    func expiredStore(_ count: Int) async throws -> TestStore {
        let t = try TestStore()
        for index in 0..<count {
            _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
        }
        t.clock.advance(seconds: 61)
        return t
    }

    /// On a mock clock: three batches with 100 ms pauses, then the 250 ms timeout falls in the
    /// third pause and cancels the run.
    @Test func aRunPastItsTimeoutIsCancelledKeepsOnlyWholeBatchesAndIsRecordedAsFailed() async throws {
        let t = try await expiredStore(200)
        let clock = MockClock()
        var runner = t.runner {
            $0.purge.batchSize = 10
            $0.jobs.batchPause = .milliseconds(100)
            $0.jobs.timeout[.purge] = .milliseconds(250)
        }
        runner.clock = AnyClock(clock)
        async let running = t.run(.purge, runner)
        // Sleeps: the timeout's, then each pause after a committed batch.
        for sleeps in 2...3 {
            await clock.sleepCalls(atLeast: sleeps)
            clock.advance(by: .milliseconds(100))
        }
        await clock.sleepCalls(atLeast: 4)
        clock.advance(by: .milliseconds(50))
        let report = await running
        #expect(report.status == .failed)
        #expect(report.error?.contains("jobs.purge.timeout") == true)
        let left = try await t.store.counts(now: t.clock.now()).expiredMemories
        #expect(left == 170, "three whole batches of ten")
        let runs = try await t.store.jobRuns(job: "purge")
        #expect(runs.map(\.status) == ["failed"])
        #expect(try await t.store.leaseHolder(job: "purge", now: SystemClock().now()) == nil)
    }

    @Test func aStopRequestEndsTheRunAfterTheBatchInProgressCommits() async throws {
        let t = try await expiredStore(50)
        let runner = t.runner { $0.purge.batchSize = 10 }
        let report = await runner.run(.purge, trigger: .schedule, now: t.clock.now(), dryRun: false) { true }
        #expect(report.status == .ok)
        #expect(report.complete == false)
        #expect(try await t.store.counts(now: t.clock.now()).expiredMemories == 40)
    }
}

/// The scheduler service itself, on a real store and real time (its sleeps are real sleeps).
@Suite struct SchedulerServiceTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func makeScheduler(_ directory: URL, hooks: SchedulerHooks = SchedulerHooks()) throws -> (Scheduler, MemoryStore) {
        let store = try MemoryStore(path: directory.appendingPathComponent("store.db").path)
        var configuration = MaintenanceConfiguration()
        configuration.orphans.maxSleep = .seconds(3600)
        for job in Scheduler.intervalJobs { configuration.jobs.jitter[job] = .zero }
        let runner = JobRunner(store: store, configuration: configuration, logger: logger)
        return (Scheduler(runner: runner, clock: SystemClock(), logger: logger, hooks: hooks), store)
    }

    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Waits for an event on real time; the bound only ends a test that failed. It is long
    /// because tests that run the model hold both cooperative threads for seconds at a time on
    /// this 2-core machine, and a busy machine (a parallel build) stretches that further.
    func waitFor(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func anEarlierDeadlineNotedByThisProcessWakesTheSleepingOrphanSweep() async throws {
        let (scheduler, store) = try makeScheduler(try scratch())
        try await whileRunning(scheduler) {
            // The start-up runs are done and the sweep has found no deadline: it sleeps for an hour.
            #expect(try await waitFor { try await store.jobRuns().count == 3 })
            let session = try await store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 1))
            let deadline = try #require(session.idleDeadlineAt)
            scheduler.noteIdleDeadline(deadline)
            // Closed within the wait (20 s), not after max_sleep (1 h). The 2-second bound is
            // checked on the daemon subprocess: in here, other tests' blocking subprocess waits
            // can hold the test runner's threads for seconds.
            #expect(try await waitFor { try await store.session(id: session.id)?.endedAt != nil })
            let closed = try #require(try await store.session(id: session.id))
            #expect(closed.endedReason == .idle)
            #expect(try #require(closed.endedAt) >= deadline)
        }
    }

    @Test func watchdogPingsWhileHealthyAndShutdownEndsTheService() async throws {
        let pings = Atomic<Int>(0)
        let statuses = Mutex<[String]>([])
        let hooks = SchedulerHooks(
            status: { line in statuses.withLock { $0.append(line) } }, watchdog: { pings.add(1, ordering: .relaxed) },
            watchdogPeriod: .milliseconds(50))
        let (scheduler, _) = try makeScheduler(try scratch(), hooks: hooks)
        try await whileRunning(scheduler) {
            let pinged = try await waitFor { pings.load(ordering: .relaxed) >= 5 }
            #expect(pinged)
        }
        let afterStop = pings.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(200))
        #expect(pings.load(ordering: .relaxed) == afterStop)
        #expect(statuses.withLock { $0.contains { $0.contains("next") } })
    }
}
