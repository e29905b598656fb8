import Foundation
import Logging
import Maintenance
import MemoryStore
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// The scheduler on a mock clock: the test steps time, so deadlines, sleeps, run timeouts and
/// the watchdog are pinned to the millisecond however busy the machine is.
@Suite struct SchedulerClockTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    struct Rig {
        let clock: MockClock
        let store: MemoryStore
        let scheduler: Scheduler
        let logs = CapturedLog()

        init(
            clock: MockClock = MockClock(), hooks: SchedulerHooks = SchedulerHooks(), summarizer: (any Summarizer)? = nil,
            configure: (inout MaintenanceConfiguration) -> Void = { _ in }
        ) throws {
            self.clock = clock
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clock-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try MemoryStore(path: directory.appendingPathComponent("store.db").path, clock: clock.wall)
            var configuration = MaintenanceConfiguration()
            configuration.orphans.maxSleep = .seconds(3600)
            for job in Scheduler.intervalJobs { configuration.jobs.jitter[job] = .zero }
            // Pauses between batches sleep on the mock clock too; the tests step only the sleeps
            // they are about.
            configuration.jobs.batchPause = .zero
            configuration.jobs.contendedPause = .zero
            configure(&configuration)
            let logger = Logger(label: "scheduler") { [logs] _ in CapturedLog.Handler(sink: logs) }
            let runner = JobRunner(
                store: store, configuration: configuration, logger: logger, summarizer: summarizer, clock: AnyClock(clock))
            scheduler = Scheduler(runner: runner, clock: clock.wall, logger: logger, hooks: hooks)
        }

        /// Waits (for the event, not a time) until some loop sleeps until `wall` Unix ms.
        func asleep(until wall: UnixMillis) async {
            let instant = AnyClock.Instant(offset: .milliseconds(wall - clock.epoch))
            while true {
                let begun = clock.sleepsBegun
                if clock.pendingDeadlines.contains(instant) { return }
                await clock.sleepCalls(atLeast: begun + 1)
            }
        }

        func waitFor(_ condition: () async throws -> Bool) async throws {
            while try await !condition() { try await Task.sleep(for: .milliseconds(2)) }
        }
    }

    @Test func theOrphanSweepSleepsUntilEachDeadlineAndClosesSessionsExactlyThen() async throws {
        let rig = try Rig()
        let first = try await rig.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 2))
        let second = try await rig.store.startSession(SessionStart(agentID: "a2", idleTimeoutSeconds: 4))
        let never = try await rig.store.startSession(SessionStart(agentID: "a3", idleTimeoutSeconds: 3600))
        try await whileRunning(rig.scheduler) {
            for session in [first, second] {
                let deadline = try #require(session.idleDeadlineAt)
                await rig.asleep(until: deadline)
                #expect(try await rig.store.session(id: session.id)?.endedAt == nil, "not before its deadline")
                rig.clock.advance(toWall: deadline)
                try await rig.waitFor { try await rig.store.session(id: session.id)?.endedAt != nil }
                let closed = try #require(try await rig.store.session(id: session.id))
                #expect(closed.endedAt == deadline, "closed at its deadline, to the millisecond")
                #expect(closed.endedReason == .idle)
            }
            await rig.asleep(until: try #require(never.idleDeadlineAt))
        }
        #expect(try await rig.store.jobRuns(job: "orphans").count == 2, "one sweep per deadline, no polling")
    }

    @Test func anEarlierDeadlineNotedByThisProcessWakesTheSleepingSweep() async throws {
        let rig = try Rig()
        try await whileRunning(rig.scheduler) {
            // Nothing is due: the sweep sleeps for max_sleep.
            await rig.asleep(until: rig.clock.wall.now() + 3_600_000)
            let session = try await rig.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 1))
            let deadline = try #require(session.idleDeadlineAt)
            rig.scheduler.noteIdleDeadline(deadline)
            await rig.asleep(until: deadline)
            rig.clock.advance(toWall: deadline)
            try await rig.waitFor { try await rig.store.session(id: session.id)?.endedAt != nil }
            #expect(try await rig.store.session(id: session.id)?.endedAt == deadline)
        }
    }

    @Test func periodicJobsRunEveryIntervalOfTheClock() async throws {
        // Only decay comes due: time steps while another job ran would fire that run's timeout.
        let rig = try Rig {
            $0.jobs.interval[.decay] = .seconds(600)
            $0.jobs.interval[.purge] = .seconds(86_400)
        }
        try await whileRunning(rig.scheduler) {
            // The three start-up runs, finished (so no run's timeout is still pending).
            try await rig.waitFor { try await rig.store.jobRuns().filter { $0.finishedAt != nil }.count == 3 }
            for runs in 2...4 {
                let next = rig.clock.wall.now() + 600_000
                await rig.asleep(until: next)
                #expect(try await rig.store.jobRuns(job: "decay").count == runs - 1)
                rig.clock.advance(toWall: next)
                try await rig.waitFor {
                    try await rig.store.jobRuns(job: "decay").filter { $0.finishedAt != nil }.count == runs
                }
            }
        }
        let starts = try await rig.store.jobRuns(job: "decay").map(\.startedAt).sorted()
        #expect(zip(starts.dropFirst(), starts).map { $0 - $1 } == [600_000, 600_000, 600_000])
    }

    @Test func theWatchdogPingsOncePerPeriod() async throws {
        let pings = Atomic<Int>(0)
        let rig = try Rig(hooks: SchedulerHooks(watchdog: { pings.add(1, ordering: .relaxed) }, watchdogPeriod: .seconds(10)))
        try await whileRunning(rig.scheduler) {
            try await rig.waitFor { pings.load(ordering: .relaxed) == 1 }
            for expected in 2...5 {
                await rig.asleep(until: rig.clock.wall.now() + 10_000)
                rig.clock.advance(by: .seconds(10))
                try await rig.waitFor { pings.load(ordering: .relaxed) == expected }
            }
        }
        #expect(pings.load(ordering: .relaxed) == 5)
    }

    /// A run that ignores cancellation wedges its loop: past the run's timeout plus the slack,
    /// the watchdog stops pinging (so systemd restarts the daemon) and says which loop is stuck.
    @Test func aWedgedLoopSilencesTheWatchdog() async throws {
        let pings = Atomic<Int>(0)
        let stuck = StuckSummarizer()
        let rig = try Rig(
            hooks: SchedulerHooks(watchdog: { pings.add(1, ordering: .relaxed) }, watchdogPeriod: .seconds(10)),
            summarizer: stuck
        ) { $0.jobs.timeout[.consolidate] = .seconds(120) }
        _ = try await rig.store.startSession(SessionStart(agentID: "a1"))
        let ended = try await rig.store.startSession(SessionStart(agentID: "a1"))
        _ = try await rig.store.storeMemory(NewMemory(agentID: "a1", sessionID: ended.id, content: "a fact"))
        _ = try await rig.store.endSession(id: ended.id)
        rig.clock.advance(by: .seconds(31 * 86_400))
        try await whileRunning(rig.scheduler) {
            await stuck.entered()
            // Healthy up to timeout + slack (150 s): 15 pings at 10 s.
            for _ in 0..<15 {
                let before = pings.load(ordering: .relaxed)
                await rig.asleep(until: rig.clock.wall.now() + 10_000)
                rig.clock.advance(by: .seconds(10))
                try await rig.waitFor { pings.load(ordering: .relaxed) > before }
            }
            let healthy = pings.load(ordering: .relaxed)
            for _ in 0..<3 {
                await rig.asleep(until: rig.clock.wall.now() + 10_000)
                rig.clock.advance(by: .seconds(10))
            }
            await rig.asleep(until: rig.clock.wall.now() + 10_000)
            #expect(pings.load(ordering: .relaxed) == healthy, "no ping once the loop is past its word")
            #expect(rig.logs.messages.contains { $0.contains("scheduler loop stuck") && $0.contains("consolidate") })
            stuck.release()
        }
    }

    /// A model server that takes the request and never answers, with `llm.timeout` longer
    /// than the job's: the orphan sweep closes a session meanwhile, and at
    /// `jobs.consolidate.timeout` the run is cancelled, writes nothing and gives up its lease.
    @Test func aStalledModelServerNeitherHoldsTheLeasePastTheJobTimeoutNorDelaysTheOrphanSweep() async throws {
        let server = FakeChatServer(responder: { _ in .stall })
        let clock = MockClock()
        try await server.run { url in
            var settings = ChatCompletionsClient.Settings(url: url, model: "m")
            settings.timeout = .seconds(600)
            let summarizer = LLMSummarizer(
                client: ChatCompletionsClient(settings: settings, waits: clock.endpointWaits), gate: SummaryGate(maxCharacters: 800),
                clock: clock.wall)
            let rig = try Rig(clock: clock, summarizer: summarizer) { $0.jobs.timeout[.consolidate] = .seconds(120) }
            let ended = try await rig.store.startSession(SessionStart(agentID: "a1"))
            _ = try await rig.store.storeMemory(NewMemory(agentID: "a1", sessionID: ended.id, content: "Uses AlloyDB.", importance: 0.9))
            _ = try await rig.store.endSession(id: ended.id)
            rig.clock.advance(by: .seconds(31 * 86_400))
            let runStart = rig.clock.wall.now()
            let idle = try await rig.store.startSession(SessionStart(agentID: "a2", idleTimeoutSeconds: 60))
            try await whileRunning(rig.scheduler) {
                await server.requestsReceived(atLeast: 1)
                #expect(try await rig.store.leaseHolder(job: "consolidate", now: rig.clock.wall.now()) != nil)
                let deadline = try #require(idle.idleDeadlineAt)
                await rig.asleep(until: deadline)
                rig.clock.advance(toWall: deadline)
                try await rig.waitFor { try await rig.store.session(id: idle.id)?.endedAt == deadline }
                #expect(try await rig.store.jobRuns(job: "consolidate").first?.finishedAt == nil, "still waiting on the model")

                await rig.asleep(until: runStart + 120_000)
                rig.clock.advance(toWall: runStart + 120_000)
                try await rig.waitFor { try await rig.store.jobRuns(job: "consolidate").first?.finishedAt != nil }
                #expect(try await rig.store.leaseHolder(job: "consolidate", now: rig.clock.wall.now()) == nil)
                let run = try #require(try await rig.store.jobRuns(job: "consolidate").first)
                #expect(run.status == "failed" && run.error?.contains("jobs.consolidate.timeout") == true)
                #expect(try await rig.store.session(id: ended.id)?.consolidatedAt == nil, "the batch was not written")
                #expect(server.requests.count == 1)
            }
        }
    }

    /// SIGHUP's reload used to rebuild the runner with the default summarizer.
    @Test func aReloadKeepsAnInjectedSummarizer() async throws {
        let rig = try Rig(summarizer: FixedSummarizer())
        let session = try await rig.store.startSession(SessionStart(agentID: "a1"))
        _ = try await rig.store.storeMemory(NewMemory(agentID: "a1", sessionID: session.id, content: "a fact"))
        _ = try await rig.store.endSession(id: session.id)
        var reloaded = rig.scheduler.configuration
        reloaded.consolidation.maxSummaryFacts = 3
        rig.scheduler.update(configuration: reloaded)
        #expect(rig.scheduler.configuration.consolidation.maxSummaryFacts == 3)
        let report = await rig.scheduler.runNow(.consolidate, trigger: .admin, dryRun: false, agent: "a1")
        let summary = try #require(report.summaries?.first)
        #expect(try await rig.store.memory(id: summary)?.content == "fixed summary")
    }
}

struct FixedSummarizer: Summarizer {
    var name: String { "fixed" }
    func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws -> SummaryTexts {
        SummaryTexts(topics: plan.topics.map { _ in .init(text: "fixed summary", writer: name) })
    }
}

/// A summarizer that hangs, ignoring cancellation, until released.
final class StuckSummarizer: Summarizer, Sendable {
    var name: String { "stuck" }
    private let state = Mutex<(entered: Bool, waiters: [CheckedContinuation<Void, Never>], held: CheckedContinuation<Void, Never>?)>(
        (false, [], nil))

    func write(_ plan: SummaryPlan, facts: [String: ConsolidationFact], ledger: SpendLedger) async throws -> SummaryTexts {
        await withCheckedContinuation { continuation in
            let waiters = state.withLock { state in
                state.entered = true
                state.held = continuation
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        return SummaryTexts(topics: plan.topics.map { _ in .init(text: "released", writer: name) })
    }

    func entered() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if !state.entered { state.waiters.append(continuation) }
                return state.entered
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        state.withLock { state in
            defer { state.held = nil }
            return state.held
        }?.resume()
    }
}

/// Keeps every log message, from every copy of the logger.
final class CapturedLog: Sendable {
    private let captured = Mutex<[String]>([])

    var messages: [String] { captured.withLock { $0 } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { sink.captured.withLock { $0.append("\(event.message)") } }
    }
}
