import Foundation
import MemoryStore
import Testing

@testable import Maintenance

@Suite struct SummaryGateTests {
    static let march3: UnixMillis = 1_772_496_000_000  // 2026-03-03T00:00:00Z

    static let facts = [
        ConsolidationFact(id: "pg14", content: "Customer's primary database is PostgreSQL 14 on Cloud SQL.", importance: 0.85, createdAt: march3),
        ConsolidationFact(
            id: "alloy", content: "Customer migrated the primary database from PostgreSQL 14 to AlloyDB last week.", importance: 0.85,
            createdAt: march3 + 86_400_000),
        ConsolidationFact(id: "contact", content: "Billing contact is ana@example.com.", importance: 0.8, createdAt: march3 + 2 * 86_400_000),
        ConsolidationFact(id: "thanks", content: "Customer said thanks.", importance: 0.2, createdAt: march3 + 3 * 86_400_000),
        ConsolidationFact(id: "email", content: "Prefers email over phone calls.", importance: 0.6, createdAt: march3 + 4 * 86_400_000),
    ]

    static func sentence(_ text: String, _ cites: String...) -> LLMAnswer.Sentence { .init(text: text, cites: cites) }

    static let faithful = [
        sentence("In March 2026 the customer migrated the primary database from PostgreSQL 14 to AlloyDB.", "alloy"),
        sentence("Billing questions go to ana@example.com.", "contact"),
        sentence("They prefer email over phone calls.", "email"),
    ]

    func check(_ sentences: [LLMAnswer.Sentence], maxCharacters: Int = 800) -> Result<String, SummaryGate.Failure> {
        let plan = SummaryPlanner(MaintenanceConfiguration.Consolidation()).plan(Self.facts)
        let byID = Dictionary(uniqueKeysWithValues: Self.facts.map { ($0.id, $0) })
        return SummaryGate(maxCharacters: maxCharacters).check(sentences, topic: plan.topics[0], plan: plan, facts: byID)
    }

    @Test func aFaithfulTextIsAccepted() throws {
        let text = try check(Self.faithful).get()
        #expect(text.hasPrefix("[2026-03-04 – 2026-03-07] In March 2026 the customer migrated"), "dated as extractive lines are")
        #expect(text.hasSuffix("over phone calls."))
    }

    @Test(arguments: [
        (0, sentence("The customer migrated to AlloyDB and PostgreSQL 15.", "alloy"), SummaryGate.Failure.unsupportedClaim("15")),
        (0, sentence("The customer migrated to AlloyDB on Azure.", "alloy"), .unsupportedClaim("azure")),
        (1, sentence("Billing questions go to bob@example.com.", "contact"), .unsupportedClaim("bob@example.com")),
        (0, sentence("The customer uses AlloyDB.", "nope"), .unknownCitation("nope")),
        (0, sentence("The database is PostgreSQL 14 on Cloud SQL.", "pg14"), .staleCitation("pg14", .supersededBy)),
        (2, sentence("The customer said thanks.", "thanks"), .staleCitation("thanks", .belowFloor)),
        (0, sentence("The customer uses AlloyDB, as ana@example.com confirmed.", "alloy"), .unsupportedClaim("ana@example.com")),
    ])
    func aFaultyTextIsRefusedWithItsReason(replacing index: Int, with sentence: LLMAnswer.Sentence, failure: SummaryGate.Failure) {
        var sentences = Self.faithful
        sentences[index] = sentence
        #expect(check(sentences) == .failure(failure))
    }

    @Test func droppingAFactKeptAtHighImportanceIsRefused() {
        #expect(check([Self.faithful[0], Self.faithful[2]]) == .failure(.missingFact("contact")))
    }

    @Test func overTheCapOrEmptyIsRefused() {
        let date = "[2026-03-04 – 2026-03-07] "
        let length = date.count + Self.faithful.map(\.text.count).reduce(0, +) + Self.faithful.count - 1
        #expect(check(Self.faithful, maxCharacters: length - 1) == .failure(.tooLong(length)))
        #expect((try? check(Self.faithful, maxCharacters: length).get()) != nil)
        #expect(check([]) == .failure(.noSentences))
    }

    @Test(arguments: [
        ("The customer runs AlloyDB.", ["alloydb"]),
        ("PostgreSQL 14 is gone; invoices 7000–7029 were discussed.", ["postgresql", "14", "7000", "7029"]),
        ("They wrote to ana@example.com about https://x.io/a.", ["ana@example.com", "https://x.io/a"]),
        ("The snake_case flag and the iPhone app. Then Later words.", ["snake_case", "iphone", "later"]),
    ])
    func claimsAreTheCheckableWords(text: String, claims: [String]) {
        #expect(SummaryGate.claims(in: text) == claims)
    }
}

@Suite struct LLMAnswerTests {
    static let json = #"{"topics": [{"topic": 1, "sentences": [{"text": "The customer uses AlloyDB.", "cites": ["a1"]}]}]}"#
    static let expected = LLMAnswer(topics: [1: [.init(text: "The customer uses AlloyDB.", cites: ["a1"])]])

    @Test(arguments: [json, "```json\n\(json)\n```", "Here is the summary you asked for:\n\(json)\nHope it helps."])
    func jsonIsFoundInFencesAndAfterProse(content: String) throws {
        #expect(try LLMAnswer.parse(content) == Self.expected)
    }

    @Test(arguments: [
        ("no json here", LLMAnswer.ParseError.noJSON),
        ("{\"topics\": [", .noJSON),
        ("{\"topics\": [}", .malformed("not valid JSON")),
        (#"{"summary": "x"}"#, .malformed("no \"topics\" array")),
        (#"{"topics": [{"topic": "one", "sentences": []}]}"#, .malformed("topics[0].topic must be a topic number")),
        (#"{"topics": [{"topic": 1, "sentences": [{"text": "x", "cites": [1]}]}]}"#,
         .malformed("topics[0].sentences[0].cites must be an array of ids")),
    ])
    func malformedAnswersAreNamed(content: String, error: LLMAnswer.ParseError) {
        #expect(throws: error) { try LLMAnswer.parse(content) }
    }
}

@Suite struct SummaryPromptTests {
    static let facts = SummaryGateTests.facts + (0..<3).map { index in
        ConsolidationFact(
            id: "inv\(index)", content: "Discussed invoice \(7000 + index) line items.", importance: 0.55,
            createdAt: SummaryGateTests.march3 + Int64(index) * 86_400_000)
    }

    static func plan() -> SummaryPlan { SummaryPlanner(MaintenanceConfiguration.Consolidation()).plan(facts) }

    @Test func thePromptGivesEachTopicsFactsWithIdsDatesImportanceAndMustKeepAndListsWhatIsLeftOut() {
        let byID = Dictionary(uniqueKeysWithValues: Self.facts.map { ($0.id, $0) })
        let prompt = SummaryPrompt.user(plan: Self.plan(), facts: byID, maxCharacters: 800, mustKeepImportance: 0.8)
        #expect(prompt.hasPrefix("Topic 1, at most 800 characters:"))
        #expect(prompt.contains(
            "- [alloy] 2026-03-04 importance 0.85 MUST-KEEP: Customer migrated the primary database from PostgreSQL 14 to AlloyDB last week."))
        #expect(prompt.contains("- [email] 2026-03-07 importance 0.60: Prefers email over phone calls."))
        #expect(prompt.contains("- [inv2] 2026-03-05 importance 0.55: Discussed invoice 7002 line items (3 times, invoices 7000–7002, Mar)."))
        #expect(prompt.contains("Left out (superseded or below the importance floor; do not use or cite):\n- [pg14] superseded_by: "))
        #expect(prompt.contains("- [thanks] below_floor: Customer said thanks."))
    }

    @Test func aSentenceOnAMergedLineMayUseItsCountAndRange() {
        let plan = Self.plan()
        let byID = Dictionary(uniqueKeysWithValues: Self.facts.map { ($0.id, $0) })
        let sentences = SummaryGateTests.faithful + [
            .init(text: "Invoice line items were discussed 3 times, invoices 7000–7002, in March.", cites: ["inv2"])
        ]
        #expect((try? SummaryGate(maxCharacters: 800).check(sentences, topic: plan.topics[0], plan: plan, facts: byID).get()) != nil)
    }
}
