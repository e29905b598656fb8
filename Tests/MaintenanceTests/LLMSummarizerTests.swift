import Foundation
import Synchronization
import Maintenance
import MemoryStore
import Testing
import TestSupport

/// The LLM summarizer against a loopback chat server answering from a script: what the gate
/// accepts, what falls back to the extractive text, and why.
@Suite struct LLMSummarizerTests {
    static let plan = SummaryPlanner(MaintenanceConfiguration.Consolidation()).plan(SummaryGateTests.facts)
    static let facts = Dictionary(uniqueKeysWithValues: SummaryGateTests.facts.map { ($0.id, $0) })

    static func answer(_ sentences: [(String, [String])]) -> String {
        let items = sentences.map { text, cites in
            JSONValue.object(["text": .string(text), "cites": .array(cites.map(JSONValue.string))])
        }
        return JSONValue.object(["topics": .array([.object(["topic": .number(1), "sentences": .array(items)])])]).jsonText()
    }

    static let faithful = answer([
        ("In March 2026 the customer migrated the primary database from PostgreSQL 14 to AlloyDB.", ["alloy"]),
        ("Billing questions go to ana@example.com.", ["contact"]), ("They prefer email over phone calls.", ["email"]),
    ])

    static func ledger() -> SpendLedger { SpendLedger(store: nil, runID: nil, clock: ManualClock(SummaryGateTests.march3)) }

    static func write(_ script: [FakeChatServer.Answer]) async throws -> SummaryTexts {
        let server = FakeChatServer(script)
        let texts = Mutex<SummaryTexts?>(nil)
        try await server.run { url in
            var settings = ChatCompletionsClient.Settings(url: url, model: "m")
            settings.retries = 2
            let summarizer = LLMSummarizer(
                client: ChatCompletionsClient(settings: settings, waits: RecordedSleeps().waits),
                gate: SummaryGate(maxCharacters: 800))
            let written = try await summarizer.write(Self.plan, facts: Self.facts, ledger: Self.ledger())
            texts.withLock { $0 = written }
        }
        return try #require(texts.withLock { $0 })
    }

    @Test(arguments: [faithful, "```json\n\(faithful)\n```", "Sure! Here it is:\n\(faithful)"])
    func aFaithfulAnswerIsUsed(content: String) async throws {
        let texts = try await Self.write([.content(content)])
        #expect(texts.topics.map(\.writer) == ["llm"])
        #expect(texts.topics[0].promptVersion == SummaryPrompt.version)
        #expect(texts.topics[0].text.hasPrefix("[2026-03-04 – 2026-03-07] In March 2026 the customer migrated"))
        #expect(texts.usage == LLMUsage(calls: 1, promptTokens: 100, completionTokens: 20))
    }

    @Test(arguments: [
        (answer([("The customer moved to PostgreSQL 15.", ["alloy"]), ("Billing goes to ana@example.com.", ["contact"])]),
         "unsupported_claim"),
        (answer([("The customer uses AlloyDB.", ["nope"])]), "unknown_citation"),
        (answer([("The customer uses PostgreSQL 14 on Cloud SQL.", ["pg14"])]), "stale_citation"),
        (answer([("The customer migrated to AlloyDB.", ["alloy"])]), "missing_fact"),
        ("{\"topics\": [", "malformed_answer"),
        ("I cannot help with that.", "malformed_answer"),
    ])
    func aFaultyAnswerFallsBackToTheExtractiveTextWithItsReason(content: String, reason: String) async throws {
        let texts = try await Self.write([.content(content)])
        #expect(texts.topics.map(\.text) == Self.plan.topics.map(\.extractiveText))
        #expect(texts.topics.map(\.writer) == ["extractive"] && texts.topics[0].promptVersion == nil)
        #expect(texts.topics[0].fallback?.hasPrefix(reason + ": ") == true, "\(texts.topics[0].fallback ?? "")")
    }

    @Test func aFailingServerFallsBackAfterItsRetries() async throws {
        let texts = try await Self.write([.status(500), .status(500), .status(500)])
        #expect(texts.topics.map(\.writer) == ["extractive"])
        #expect(texts.topics[0].fallback?.hasPrefix("status_500: ") == true)
        #expect(texts.usage == LLMUsage(calls: 1))
    }

    @Test func anAnswerWithoutUsageIsCountedByEstimate() async throws {
        let texts = try await Self.write([.content(Self.faithful, usage: nil)])
        #expect(texts.topics.map(\.writer) == ["llm"])
        #expect(texts.usage.promptTokens > 100 && texts.usage.completionTokens == (Self.faithful.count + 3) / 4)
    }

    @Test func afterConsecutiveFailuresTheBreakerSkipsTheServerUntilItsCooldownEnds() async throws {
        let server = FakeChatServer([.status(500), .status(500), .content(Self.faithful)])
        let clock = ManualClock(SummaryGateTests.march3)
        try await server.run { url in
            var settings = ChatCompletionsClient.Settings(url: url, model: "m")
            settings.retries = 0
            let summarizer = LLMSummarizer(
                client: ChatCompletionsClient(settings: settings), gate: SummaryGate(maxCharacters: 800),
                breaker: CircuitBreaker(failures: 2, cooldown: 10 * .minute), clock: clock)
            for _ in 0..<2 { _ = try await summarizer.write(Self.plan, facts: Self.facts, ledger: Self.ledger()) }
            let skipped = try await summarizer.write(Self.plan, facts: Self.facts, ledger: Self.ledger())
            #expect(skipped.usage.calls == 0)
            #expect(skipped.topics[0].fallback?.hasPrefix("breaker_open: 2 calls in a row failed") == true)
            #expect(server.requests.count == 2, "no call while open")
            clock.advance(seconds: 600)
            let again = try await summarizer.write(Self.plan, facts: Self.facts, ledger: Self.ledger())
            #expect(again.topics.map(\.writer) == ["llm"], "closed after the cooldown; one success keeps it closed")
        }
    }
}

@Suite struct CircuitBreakerTests {
    @Test func itOpensAfterConsecutiveFailuresAndASuccessResetsTheCount() {
        let breaker = CircuitBreaker(failures: 3, cooldown: 60_000)
        breaker.record(success: false, now: 0)
        breaker.record(success: false, now: 1)
        breaker.record(success: true, now: 2)
        breaker.record(success: false, now: 3)
        breaker.record(success: false, now: 4)
        #expect(breaker.openUntil(now: 5) == nil, "the success broke the streak")
        breaker.record(success: false, now: 5)
        #expect(breaker.openUntil(now: 6) == 60_005)
        #expect(breaker.openUntil(now: 60_005) == nil)
    }
}
