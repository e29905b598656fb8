import Embeddings
import Foundation
import Logging
import Maintenance
import MemoryStore
import Prometheus
import Synchronization
import TestSupport
import Testing

/// The LLM summarizer inside the real consolidation job, on a real store, against a loopback
/// chat server answering from a script: what the gate decides, what the fate log (each summary's
/// `llm_fallback`, the run report, `job_runs`) and the counters say, and that wherever the gate
/// refused, the store holds exactly what the extractive summarizer writes.
@Suite struct LLMConsolidationTests {
    static let scenario = ConsolidationQualityTests.support

    /// One consolidation of a scenario with the LLM summarizer, and the same history
    /// consolidated by the extractive summarizer, for comparison.
    struct Outcome {
        var report: JobReport
        var test: TestStore
        var summaries: [Memory]
        var baseline: TestStore
        var registry: PrometheusCollectorRegistry
        var server: FakeChatServer

        var writers: [String] { summaries.map { $0.metadata["summarizer"]?.text ?? "" } }
        var fallbacks: [String] {
            summaries.compactMap { $0.metadata["llm_fallback"]?.text.map { String($0.prefix { $0 != ":" }) } }
        }

        /// A Prometheus sample of the registry: `memkeep_llm_calls_total{result="ok"}`.
        func metric(_ sample: String) -> Double? {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(sample + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }
        }

        /// The export equals the extractive one but for each summary's `llm_fallback`.
        func exportIsTheExtractiveOne() async throws -> Bool {
            try await test.normalizedExport(droppingMetadata: ["llm_fallback"]) == baseline.normalizedExport()
        }

        /// Every summary whose model text was refused is the extractive summary of the same
        /// sources, word for word; returns how many there are.
        func refusedSummariesAreTheExtractiveOnes() async throws -> Int {
            let extractive = Set(try await baseline.normalizedExport())
            let refused = try await test.normalizedExport(droppingMetadata: ["llm_fallback"])
                .filter { $0.contains(#""summarizer":"extractive""#) }
            #expect(refused.allSatisfy(extractive.contains))
            return refused.count
        }
    }

    struct Setup: Sendable {
        var waits = RecordedSleeps().waits
        var retries = 2
        var timeout: Duration = .seconds(60)
        var budget = TokenBudget()
        var breaker = CircuitBreaker()
        var concurrency = 2
        var batchSessions: Int?
        /// Topics by the built-in model's vectors rather than by tags.
        var vectors = false
        /// Consolidates the whole history (`--agent`), not only what is due.
        var wholeHistory = false
    }

    static func consolidate(
        _ scenario: ConsolidationQualityTests.Scenario = Self.scenario, server: FakeChatServer, setup: Setup = Setup(),
        during: @Sendable @escaping () async throws -> Void = {}
    ) async throws -> Outcome {
        let built = try await ConsolidationQualityTests.build(scenario)
        let baseline = try await built.test.copy()
        let configure: @Sendable (inout MaintenanceConfiguration) -> Void = { configuration in
            if let sessions = setup.batchSessions { configuration.consolidation.batchSessions = sessions }
        }
        if setup.vectors {
            for store in [built.test, baseline] { #expect(await store.run(.embed, store.runner()).status == .ok) }
        }
        @Sendable func runner(_ test: TestStore) -> JobRunner {
            setup.vectors ? test.runner(configure) : test.runner(configure).withoutEmbedder()
        }
        let agent = setup.wholeHistory ? scenario.agent : nil
        let extractive = await baseline.run(.consolidate, runner(baseline), agent: agent)
        #expect(extractive.status == .ok)
        let registry = PrometheusCollectorRegistry()
        let report = Mutex<JobReport?>(nil)
        try await server.run { url in
            var settings = ChatCompletionsClient.Settings(url: url, model: "scripted")
            settings.retries = setup.retries
            settings.timeout = setup.timeout
            let summarizer = LLMSummarizer(
                client: ChatCompletionsClient(settings: settings, waits: setup.waits), gate: SummaryGate(maxCharacters: 800),
                breaker: setup.breaker, budget: setup.budget, concurrency: setup.concurrency, clock: built.test.clock,
                metrics: LLMMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            var runner = runner(built.test)
            runner.injectedSummarizer = summarizer
            runner.leaseClock = built.test.clock
            async let stepping: Void = during()
            let result = await built.test.run(.consolidate, runner, agent: agent)
            try await stepping
            report.withLock { $0 = result }
        }
        let summaries = try await built.test.store.memories(agentID: scenario.agent, limit: 1000)
            .filter { $0.tags.contains(Memory.summaryTag) }
        return Outcome(
            report: try #require(report.withLock { $0 }), test: built.test, summaries: summaries, baseline: baseline,
            registry: registry, server: server)
    }

    /// Answers every prompt as the scripted model would, with `fault` in every topic it fits.
    static func model(_ fault: ScriptedSummaries.Fault? = nil) -> @Sendable (String) -> FakeChatServer.Answer {
        { prompt in .content(ScriptedSummaries.answer(to: prompt, fault: fault).content) }
    }

    /// The figures of the issue, for each scenario history, with topics by vectors and by tags:
    /// the gate accepts every faithful topic and catches every scripted fault, and refuses
    /// nothing else.
    @Test(arguments: [
        ConsolidationQualityTests.support, ConsolidationQualityTests.developer, ConsolidationQualityTests.tutor,
    ], [true, false])
    func theGateAcceptsEveryFaithfulTopicAndCatchesEveryScriptedFault(
        scenario: ConsolidationQualityTests.Scenario, vectors: Bool
    ) async throws {
        var setup = Setup()
        setup.vectors = vectors
        setup.wholeHistory = true
        let faithful = try await Self.consolidate(scenario, server: FakeChatServer(responder: Self.model()), setup: setup)
        let accepted = faithful.writers.filter { $0 == "llm" }.count
        #expect(accepted == faithful.summaries.count && accepted > 0, "\(faithful.fallbacks)")
        var line = "gate, \(scenario.agent), \(vectors ? "vectors" : "tags"): faithful topics accepted \(accepted)/\(faithful.summaries.count)"
        var (injectedTotal, caughtTotal) = (0, 0)
        for fault in ScriptedSummaries.Fault.allCases {
            let outcome = try await Self.consolidate(scenario, server: FakeChatServer(responder: Self.model(fault)), setup: setup)
            let injected = outcome.server.prompts.map { ScriptedSummaries.answer(to: $0, fault: fault).injected.count }.reduce(0, +)
            let caught = outcome.fallbacks.filter { $0 == fault.reason }.count
            #expect(caught == injected, "\(fault): \(outcome.fallbacks)")
            #expect(outcome.fallbacks.count == caught, "\(fault): only the faulty topics are refused")
            #expect(outcome.writers.filter { $0 == "llm" }.count == outcome.summaries.count - injected)
            injectedTotal += injected
            caughtTotal += caught
            line += "; \(fault.rawValue) \(caught)/\(injected)"
        }
        print(line + "; faults caught \(caughtTotal)/\(injectedTotal)")
    }

    @Test func aFaithfulAnswerIsWrittenAndCounted() async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: Self.model()))
        let calls = outcome.server.requests.count
        #expect(calls == 2, "one call per batch")
        #expect(!outcome.summaries.isEmpty && outcome.writers.allSatisfy { $0 == "llm" })
        #expect(outcome.summaries.allSatisfy { $0.metadata["prompt_version"]?.text == SummaryPrompt.version })
        #expect(outcome.report.llmCalls == calls && outcome.report.llmFallbacks == [:])
        #expect(outcome.report.llmPromptTokens == 100 * calls && outcome.report.llmCompletionTokens == 20 * calls)
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="ok"}"#) == Double(calls))
        #expect(outcome.metric(#"memkeep_llm_tokens_total{kind="prompt"}"#) == Double(100 * calls))
        #expect(outcome.metric("memkeep_llm_call_duration_seconds_count") == Double(calls))
        #expect(outcome.metric(#"memkeep_llm_fallbacks_total{reason="unsupported_claim"}"#) == nil)
        let run = try #require(try await outcome.test.store.jobRuns(job: "consolidate").first)
        #expect(run.llmUsage == LLMUsage(calls: calls, promptTokens: 100 * calls, completionTokens: 20 * calls))
        #expect(try await outcome.test.store.llmUsage(day: outcome.test.clock.now().utcDay).tokens == 120 * calls)
        #expect(try await !outcome.exportIsTheExtractiveOne(), "the model's texts stand")
    }

    /// The issue's scripted faults, each refused in every topic: the store is the extractive one.
    @Test(arguments: [
        (ScriptedSummaries.Fault.inventedNumber, "unsupported_claim"), (.unknownCitation, "unknown_citation"),
        (.staleCitation, "stale_citation"), (.tooLong, "too_long"), (.inventedName, "unsupported_claim"),
    ])
    func aFaultInEveryTopicLeavesTheExtractiveStore(fault: ScriptedSummaries.Fault, reason: String) async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: Self.model(fault)))
        let injected = outcome.server.prompts.map { ScriptedSummaries.answer(to: $0, fault: fault).injected.count }
        #expect(injected.reduce(0, +) == outcome.summaries.count, "the fault is in every topic of every batch")
        #expect(outcome.writers.allSatisfy { $0 == "extractive" })
        #expect(outcome.fallbacks == Array(repeating: reason, count: outcome.summaries.count))
        #expect(outcome.report.llmFallbacks == [reason: outcome.summaries.count])
        #expect(outcome.metric("memkeep_llm_fallbacks_total{reason=\"\(reason)\"}") == Double(outcome.summaries.count))
        let run = try #require(try await outcome.test.store.jobRuns(job: "consolidate").first)
        #expect(run.llmFallbacks == [reason: outcome.summaries.count])
        #expect(try await outcome.exportIsTheExtractiveOne())
    }

    /// A dropped 0.9 fact is refused where the topic has one; the other topics keep the model's text.
    @Test func aDroppedImportantFactIsRefusedInItsTopicOnly() async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: Self.model(.droppedMustKeep)))
        let injected = outcome.server.prompts.map { ScriptedSummaries.answer(to: $0, fault: .droppedMustKeep).injected.count }
        #expect(injected.reduce(0, +) > 0 && injected.reduce(0, +) < outcome.summaries.count)
        #expect(outcome.fallbacks == Array(repeating: "missing_fact", count: injected.reduce(0, +)))
        #expect(outcome.writers.filter { $0 == "llm" }.count == outcome.summaries.count - injected.reduce(0, +))
        #expect(outcome.report.llmFallbacks == ["missing_fact": injected.reduce(0, +)])
        #expect(outcome.metric(#"memkeep_llm_fallbacks_total{reason="missing_fact"}"#) == Double(injected.reduce(0, +)))
        #expect(try await outcome.refusedSummariesAreTheExtractiveOnes() == injected.reduce(0, +))
    }

    @Test(arguments: ["{\"topics\": [", "I cannot summarize these facts."])
    func aMalformedAnswerLeavesTheExtractiveStore(content: String) async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: { _ in .content(content) }))
        #expect(outcome.fallbacks == Array(repeating: "malformed_answer", count: outcome.summaries.count))
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="ok"}"#) == 2, "the call itself succeeded and was paid")
        #expect(outcome.report.llmPromptTokens == 200)
        #expect(try await outcome.exportIsTheExtractiveOne())
    }

    @Test func anAnswerInACodeFenceIsUsed() async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: { prompt in
            .content("Here are the summaries:\n```json\n\(ScriptedSummaries.answer(to: prompt).content)\n```")
        }))
        #expect(!outcome.summaries.isEmpty && outcome.writers.allSatisfy { $0 == "llm" })
        #expect(outcome.fallbacks.isEmpty && outcome.report.llmFallbacks == [:] && outcome.report.llmCalls == 2)
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="ok"}"#) == 2)
    }

    @Test func anAnswerWithoutUsageIsCountedByEstimate() async throws {
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: { prompt in
            .content(ScriptedSummaries.answer(to: prompt).content, usage: nil)
        }))
        #expect(outcome.writers.allSatisfy { $0 == "llm" })
        let estimated = outcome.server.prompts.map { (SummaryPrompt.system.count + 3) / 4 + ($0.count + 3) / 4 }.reduce(0, +)
        #expect(outcome.report.llmPromptTokens == estimated)
        #expect((outcome.report.llmCompletionTokens ?? 0) > 0)
        let today = try await outcome.test.store.llmUsage(day: outcome.test.clock.now().utcDay)
        #expect(today.promptTokens == estimated && today.calls == 2)
        #expect(outcome.metric(#"memkeep_llm_tokens_total{kind="prompt"}"#) == Double(estimated))
        #expect(outcome.fallbacks.isEmpty && outcome.report.llmFallbacks == [:])
    }

    @Test func aRateLimitIsWaitedOutAsItsRetryAfterSays() async throws {
        let sleeps = RecordedSleeps()
        var setup = Setup()
        setup.waits = sleeps.waits
        setup.concurrency = 1
        let outcome = try await Self.consolidate(
            server: FakeChatServer([.status(429, retryAfter: 2)], responder: Self.model()), setup: setup)
        #expect(sleeps.all == [.seconds(2)])
        #expect(outcome.writers.allSatisfy { $0 == "llm" } && outcome.report.llmFallbacks == [:])
        #expect(outcome.server.requests.count == 3, "the refused request again, then the second batch")
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="ok"}"#) == 2, "the retry is within its call")
        #expect(outcome.report.llmCalls == 2)
    }

    /// A server that accepts the request and never answers: each attempt ends at `llm.timeout`
    /// on the injected clock, and the batch keeps its extractive text.
    @Test func aStalledServerTimesOutAndTheBatchKeepsItsExtractiveText() async throws {
        let clock = MockClock()
        var setup = Setup()
        setup.waits = clock.endpointWaits
        setup.timeout = .seconds(30)
        setup.concurrency = 1
        let server = FakeChatServer([.stall, .stall, .stall], responder: Self.model())
        let outcome = try await Self.consolidate(server: server, setup: setup) {
            // Three attempts: each deadline passes once its request is in; a backoff between.
            for attempt in 1...3 {
                await server.requestsReceived(atLeast: attempt)
                await clock.sleepCalls(atLeast: 2 * attempt - 1)
                clock.advance(by: .seconds(30))
                if attempt < 3 {
                    await clock.sleepCalls(atLeast: 2 * attempt)
                    clock.advance(by: .seconds(30))
                }
            }
        }
        let first = outcome.summaries.filter { $0.metadata["llm_fallback"] != nil }
        #expect(!first.isEmpty && first.allSatisfy { $0.metadata["llm_fallback"]?.text?.hasPrefix("timeout: ") == true })
        #expect(first.allSatisfy { $0.metadata["summarizer"]?.text == "extractive" })
        #expect(outcome.writers.contains("llm"), "the second batch's call answered")
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="timeout"}"#) == 1)
        #expect(outcome.report.llmFallbacks == ["timeout": first.count])
        #expect(try await outcome.refusedSummariesAreTheExtractiveOnes() == first.count)
    }

    /// Five failed calls in a row open the breaker: the rest of the run makes no call.
    @Test func fiveFailuresInARowOpenTheBreakerForTheRestOfTheRun() async throws {
        var setup = Setup()
        setup.retries = 0
        setup.batchSessions = 5
        setup.concurrency = 1
        setup.breaker = CircuitBreaker(failures: 5, cooldown: 10 * .minute)
        let outcome = try await Self.consolidate(server: FakeChatServer(responder: { _ in .status(500) }), setup: setup)
        #expect(outcome.server.requests.count == 5)
        let fallbacks = Dictionary(grouping: outcome.fallbacks, by: { $0 }).mapValues(\.count)
        #expect(fallbacks.keys.sorted() == ["breaker_open", "status_500"])
        #expect(outcome.report.llmCalls == 5 && outcome.report.llmFallbacks == fallbacks)
        #expect(outcome.metric(#"memkeep_llm_calls_total{result="status_500"}"#) == 5)
        #expect(outcome.metric(#"memkeep_llm_fallbacks_total{reason="breaker_open"}"#) == Double(fallbacks["breaker_open"] ?? 0))
        #expect(try await outcome.exportIsTheExtractiveOne())
    }

    /// A call goes only when its worst case fits the run's budget; the run goes on extractive.
    /// The server bills what the client estimates (four characters a token), as a real one
    /// would roughly.
    @Test func onceTheRunBudgetIsSpentTheRunContinuesExtractive() async throws {
        var setup = Setup()
        setup.batchSessions = 5
        setup.concurrency = 1
        setup.budget = TokenBudget(perRun: 3_000)
        let server = FakeChatServer(responder: { prompt in
            let content = ScriptedSummaries.answer(to: prompt).content
            return .content(content, usage: ((SummaryPrompt.system.count + 3) / 4 + (prompt.count + 3) / 4, (content.count + 3) / 4))
        })
        let outcome = try await Self.consolidate(server: server, setup: setup)
        let calls = outcome.server.requests.count
        #expect(calls >= 1 && calls < (outcome.report.consolidations?.count ?? 0))
        #expect(outcome.server.billedTokens <= 3_000, "never overrun")
        #expect((outcome.report.llmPromptTokens ?? 0) + (outcome.report.llmCompletionTokens ?? 0) == outcome.server.billedTokens)
        #expect(outcome.fallbacks.allSatisfy { $0 == "budget_spent" } && !outcome.fallbacks.isEmpty)
        #expect(outcome.summaries.contains { $0.metadata["llm_fallback"]?.text?.contains("llm.max_tokens_per_run is 3000") == true })
    }

    /// The day's budget counts what earlier runs (any process) spent that UTC day, and a new
    /// day starts from zero.
    @Test func theDayBudgetCountsEarlierRunsAndResetsAtMidnightUTC() async throws {
        let test = try TestStore()
        let ledger = SpendLedger(store: test.store, runID: nil, clock: test.clock)
        let budget = TokenBudget(perDay: 1_000)
        #expect(try await ledger.reserve(700, within: budget) == nil)
        try await ledger.settle(reserved: 700, usage: LLMUsage(calls: 1, promptTokens: 500, completionTokens: 100))
        let later = SpendLedger(store: test.store, runID: nil, clock: test.clock)
        let refusal = try await later.reserve(500, within: budget)
        #expect(refusal == TokenBudget.Refusal(key: "llm.max_tokens_per_day", limit: 1_000, spent: 600, call: 500))
        #expect(try await later.reserve(400, within: budget) == nil)
        test.clock.set((test.clock.now().utcDay + 1) * .day)
        #expect(try await SpendLedger(store: test.store, runID: nil, clock: test.clock).reserve(1_000, within: budget) == nil)
    }

    @Test(arguments: [
        (700, 0, 0, nil), (701, 0, 0, "llm.max_tokens_per_run"), (300, 400, 0, nil), (301, 400, 0, "llm.max_tokens_per_run"),
        (50, 0, 950, nil), (51, 0, 950, "llm.max_tokens_per_day"),
    ] as [(Int, Int, Int, String?)])
    func aCallGoesOnlyWhenItsWorstCaseFitsBothBudgets(call: Int, run: Int, day: Int, refusedBy: String?) {
        #expect(TokenBudget(perRun: 700, perDay: 1_000).refusal(call: call, run: run, day: day)?.key == refusedBy)
    }

    static let realEndpoint = ProcessInfo.processInfo.environment["MEMKEEP_TEST_LLM_URL"]
    static let realModel = ProcessInfo.processInfo.environment["MEMKEEP_TEST_LLM_MODEL"]

    /// Against a real model server (README: "Testing against a real model"): the support
    /// history consolidates with every call answered, and prints how many topics the gate took.
    @Test(.enabled(if: realEndpoint != nil && realModel != nil, "MEMKEEP_TEST_LLM_URL and MEMKEEP_TEST_LLM_MODEL name a server"))
    func aRealModelServerWordsTheSupportHistory() async throws {
        let built = try await ConsolidationQualityTests.build(Self.scenario)
        var settings = ChatCompletionsClient.Settings(url: Self.realEndpoint!, model: Self.realModel!)
        settings.apiKey = ProcessInfo.processInfo.environment["MEMKEEP_TEST_LLM_API_KEY"]
        settings.timeout = .seconds(300)
        var runner = built.test.runner().withoutEmbedder()
        runner.injectedSummarizer = LLMSummarizer(
            client: ChatCompletionsClient(settings: settings), gate: SummaryGate(maxCharacters: 800), clock: built.test.clock)
        runner.leaseClock = built.test.clock
        var configuration = runner.configuration
        configuration.jobs.timeout[.consolidate] = .seconds(3600)
        configuration.jobs.budget[.consolidate] = .seconds(3000)
        runner = runner.reconfigured(configuration)
        let report = await built.test.run(.consolidate, runner, agent: Self.scenario.agent)
        #expect(report.status == .ok, "\(report.error ?? "")")
        let summaries = try await built.test.store.memories(agentID: Self.scenario.agent, limit: 1000)
            .filter { $0.tags.contains(Memory.summaryTag) }
        let refused = summaries.compactMap { $0.metadata["llm_fallback"]?.text }
        #expect(refused.allSatisfy { !$0.hasPrefix("timeout") && !$0.hasPrefix("status_") && !$0.hasPrefix("unreachable") })
        #expect((report.llmCalls ?? 0) > 0 && (report.llmPromptTokens ?? 0) > 0)
        print("real model \(Self.realModel!): \(summaries.count - refused.count)/\(summaries.count) topics accepted; refused: \(refused)")
        for summary in summaries where summary.metadata["summarizer"]?.text == "llm" { print("---\n\(summary.content)") }
    }

    /// A dry run's answers are kept a day by their prompt: the real run then writes what the
    /// preview showed without paying again; a day later the prompt is asked again.
    @Test func anAnswerPaidForIsNotPaidForAgain() async throws {
        let built = try await ConsolidationQualityTests.build(Self.scenario)
        let test = built.test
        let server = FakeChatServer(responder: Self.model())
        try await server.run { url in
            var runner = test.runner().withoutEmbedder()
            runner.injectedSummarizer = LLMSummarizer(
                client: ChatCompletionsClient(settings: .init(url: url, model: "scripted"), waits: RecordedSleeps().waits),
                gate: SummaryGate(maxCharacters: 800), clock: test.clock)
            runner.leaseClock = test.clock
            let preview = await test.run(.consolidate, runner, dryRun: true)
            #expect(preview.llmCalls == 2 && server.requests.count == 2)
            let real = await test.run(.consolidate, runner)
            #expect(server.requests.count == 2, "no call for a prompt already paid for")
            #expect(real.llmCalls == nil && real.summaries?.count == preview.previews?.count)
            let written = try await test.store.memories(agentID: Self.scenario.agent, limit: 1000)
                .filter { $0.tags.contains(Memory.summaryTag) }
            #expect(Set(written.map(\.content)) == Set(preview.previews?.map(\.text) ?? []))
            #expect(written.allSatisfy { $0.metadata["summarizer"]?.text == "llm" })
            #expect(try await test.store.llmUsage(day: test.clock.now().utcDay).calls == 2)
            // A day on, the kept answers are past their lifetime (and purged).
            test.clock.advance(seconds: 86_401)
            #expect(await test.run(.purge, runner).status == .ok)
            _ = try await test.store.restore(id: try #require(real.consolidations?.first))
            let again = await test.run(.consolidate, runner)
            #expect(again.llmCalls == again.consolidations?.count, "every prompt asked, the restored batch's too")
            #expect(server.requests.count == 2 + (again.consolidations?.count ?? 0))
        }
    }

    /// `llm.max_concurrency` batches are worded at once: the second request arrives while the
    /// first is held. (Without concurrency it would never arrive; the limit bounds that failure,
    /// and is long because a busy machine can delay the requests by a minute.)
    @Test(.timeLimit(.minutes(5))) func batchesAreWordedConcurrentlyUpToTheLimit() async throws {
        var setup = Setup()
        setup.batchSessions = 5
        setup.concurrency = 2
        let server = FakeChatServer([.stall, .stall], responder: Self.model())
        let outcome = try await Self.consolidate(server: server, setup: setup) {
            await server.requestsReceived(atLeast: 2)
            server.releaseStalls()
        }
        #expect(outcome.report.status == .ok)
        #expect(outcome.fallbacks.isEmpty, "the stalled requests were retried after their 503")
    }
}
