import Foundation
import MemoryStore
import Testing

@testable import Maintenance

@Suite struct TemplateMergeTests {
    static let march1: UnixMillis = 1_772_323_200_000  // 2026-03-01T00:00:00Z

    @Test(arguments: [
        ("Discussed invoice 7012 line items; no action needed.", "Discussed invoice 7013 line items; no action needed."),
        ("Ticket INV-7012 closed", "Ticket INV-9 closed"),
        ("Call on 2026-03-04 went well", "Call on 2026-04-11 went well"),
        ("Met \"Acme Corp\" about renewal", "Met \"Globex\" about renewal"),
        ("Weekly sync on Monday", "Weekly sync on Friday"),
        ("Same line twice.", "Same line twice."),
    ])
    func factsDifferingOnlyInSlotsShareATemplate(a: String, b: String) {
        #expect(TemplateMerge.template(a).key == TemplateMerge.template(b).key)
    }

    @Test(arguments: [
        ("Discussed invoice 7012 line items", "Discussed refund 7012 line items"),
        ("Customer uses PostgreSQL 14", "Customer uses PostgreSQL 14 on Cloud SQL"),
        ("Plan has 5 seats.", "Plan has 5 seats!"),
    ])
    func factsDifferingInWordsDoNot(a: String, b: String) {
        #expect(TemplateMerge.template(a).key != TemplateMerge.template(b).key)
    }

    @Test func thirtyInvoiceLinesBecomeOneCountedLineWithRangeAndMonths() {
        let members = (0..<30).map { index in
            TemplateMerge.Member(
                text: "Discussed invoice \(7000 + index) line items; no action needed.",
                createdAt: Self.march1 + Int64(index) * 3 * .day)
        }
        #expect(
            TemplateMerge.line(members.shuffled())
                == "Discussed invoice 7029 line items; no action needed (30 times, invoices 7000–7029, Mar–May).")
    }

    @Test func quotedNamesAreListedAndYearsShownAcrossAYearEnd() {
        let line = TemplateMerge.line([
            .init(text: "Met \"Acme\" about renewal", createdAt: Self.march1 - 120 * .day),
            .init(text: "Met \"Globex\" about renewal", createdAt: Self.march1),
        ])
        #expect(line == "Met \"Globex\" about renewal (2 times, Acme, Globex, Nov 2025–Mar 2026)")
    }

    @Test func identicalRepeatsAreCountedWithoutARange() {
        let line = TemplateMerge.line([
            .init(text: "Customer said thanks.", createdAt: Self.march1),
            .init(text: "Customer said thanks.", createdAt: Self.march1 + .day),
        ])
        #expect(line == "Customer said thanks (2 times, Mar).")
    }
}

@Suite struct FactTextTests {
    @Test(arguments: [
        ("Café ÉTÉ runs v14.2, naïve. Second; third!", [["café", "été", "runs", "v14.2", "naïve"], ["second"], ["third"]]),
        ("Cafe\u{301} 日本語 x", [["cafe\u{301}", "日本語", "x"]]),
        ("Ends at 3. Then 4.5 more", [["ends", "at", "3"], ["then", "4.5", "more"]]),
        ("", []),
    ])
    func sentencesAreLowerCasedWordsSplitAtSentenceEnds(text: String, expected: [[String]]) {
        #expect(FactText.sentences(text) == expected)
    }
}

@Suite struct SupersessionTests {
    @Test(arguments: [
        ("Customer migrated the primary database from PostgreSQL 14 to AlloyDB last week.", ["postgresql", "14"]),
        ("We switched our whole billing stack over the summer from Stripe to Adyen.", ["stripe"]),
        ("Moved hosting from the old Heroku dynos to Fly.io", ["heroku", "dynos"]),
        ("Replaced Redis with Valkey for sessions", ["redis"]),
        ("The Redis cache was replaced by Valkey", ["redis", "cache"]),
        ("Customer no longer uses Jira.", ["jira"]),
        ("They are no longer on AWS", ["aws"]),
        ("The legacy SOAP endpoint was retired in May", ["soap", "endpoint"]),
        ("Webhook v1 has been removed", ["webhook", "v1"]),
        ("Slack integration was dropped", ["slack", "integration"]),
        ("Now uses Linear instead of Jira", ["jira"]),
    ])
    func changeStatementsNameWhatNoLongerHolds(text: String, term: [String]) {
        #expect(Supersession.supersededTerms(in: text).map(\.named) == [term])
    }

    /// Changes said by their structure, with verbs and phrasings that appear nowhere in the code:
    /// what no longer holds, and what the change is about.
    @Test(arguments: [
        ("The team rewrote the services from Python to Go.", ["python"], ["team", "rewrote", "services"]),
        ("Our office relocated from Leeds to York in March", ["leeds"], ["office", "relocated"]),
        ("Headcount grew from twelve to forty people", ["twelve"], ["headcount", "grew"]),
        ("Python is no longer our backend language", ["python"], ["backend", "language"]),
        ("Zoom is no longer our meeting tool", ["zoom"], ["meeting", "tool"]),
    ])
    func changesByStructureNameWhatTheyAreAbout(text: String, named: [String], about: [String]) {
        #expect(Supersession.supersededTerms(in: text) == [Supersession.Change(named: named, about: about)])
    }

    @Test(arguments: [
        ("The team rewrote the services from Python to Go.", "Backend services are written in Python.", true),
        ("The team rewrote the services from Python to Go.", "Took a Python course last spring.", false),
        ("Python is no longer our backend language", "The backend is written in Python", true),
        ("Python is no longer our backend language", "Python notebooks for the analysts", false),
        ("Headcount grew from twelve to forty people", "Headcount is twelve engineers", true),
    ])
    func aStructuralChangeRetiresOnlyFactsAboutTheSameThing(statement: String, fact: String, stale: Bool) {
        let tokens = Set(FactText.sentences(fact).joined())
        #expect(Supersession.supersedes(changes: Supersession.supersededTerms(in: statement), tokens: tokens, own: []) == stale)
    }

    @Test(arguments: [
        "Moved the standup to Friday.",
        "Changed the password.",
        "Received a call from Acme about renewal.",
        "Upgraded the plan. Invoices still come from Stripe.",
        "The webhook was not removed.",
        "Customer is no longer interested in the webinar",
        "Paid by card instead of invoice",
        "Flew from Paris to Rome for the conference",
        "Works from nine to five",
        "Replaced",
        "Moved from the",
    ])
    func nearMissesStateNoChange(text: String) {
        #expect(Supersession.supersededTerms(in: text).isEmpty)
    }
}

@Suite struct TopicClusteringTests {
    static func vector(_ axis: Int, _ noise: Float = 0) -> [Float] {
        (0..<8).map { $0 == axis ? 1 : ($0 == 7 ? noise : 0) }
    }

    @Test func similarVectorsFormOneTopicEach() {
        let vectors = [Self.vector(0), Self.vector(1), Self.vector(0, 0.2), Self.vector(1, 0.1), Self.vector(2)]
        #expect(TopicClustering.byVectors(vectors, maxTopics: 6) == [[0, 2], [1, 3], [4]])
    }

    @Test func topicsPastTheCapMergeWithTheirNearest() {
        let vectors = (0..<7).map { Self.vector($0) }
        #expect(TopicClustering.byVectors(vectors, maxTopics: 3).count == 3)
    }

    @Test func withoutVectorsTheMostCommonTagDecidesAndTheSmallestTopicsJoin() {
        let tags = [["billing"], ["infra", "billing"], ["infra"], ["infra"], [], ["ux"], ["legal"]]
        #expect(TopicClustering.byTags(tags, maxTopics: 3) == [[0, 5, 6], [1, 2, 3], [4]])
    }
}
