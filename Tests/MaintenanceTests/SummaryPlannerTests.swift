import Foundation
import MemoryStore
import Testing

@testable import Maintenance

@Suite struct SummaryPlannerTests {
    static func fact(
        _ id: String, _ content: String, at minute: Int64, importance: Double = 0.6, tags: [String] = [],
        vector: [Float]? = nil, supersededBy: String? = nil
    ) -> ConsolidationFact {
        ConsolidationFact(
            id: id, sessionID: "s\(minute)", content: content, importance: importance, tags: tags,
            createdAt: minute * .minute, supersededBy: supersededBy, vector: vector)
    }

    static func planner(_ change: (inout MaintenanceConfiguration.Consolidation) -> Void = { _ in }) -> SummaryPlanner {
        var configuration = MaintenanceConfiguration.Consolidation()
        change(&configuration)
        return SummaryPlanner(configuration)
    }

    @Test func factsBelowTheFloorAreInNoSummary() {
        let plan = Self.planner().plan([
            Self.fact("thanks", "Customer said thanks and closed ticket 5012.", at: 1, importance: 0.2),
            Self.fact("db", "Primary database is PostgreSQL 14.", at: 2, importance: 0.9),
        ])
        #expect(plan.decisions["thanks"] == .init(fate: .belowFloor, ref: nil, topic: nil))
        #expect(plan.topics.map(\.extractiveText) == ["- [1970-01-01] Primary database is PostgreSQL 14."])
    }

    @Test func aLaterChangeStatementSupersedesAnEarlierFactAtAnyDistance() {
        let plan = Self.planner().plan([
            Self.fact("old", "Customer's primary database is PostgreSQL 14 on Cloud SQL.", at: 1, importance: 0.9),
            Self.fact("new", "Customer migrated the primary database from PostgreSQL 14 to AlloyDB last week.", at: 2),
        ])
        #expect(plan.decisions["old"] == .init(fate: .supersededBy, ref: "new", topic: nil))
        #expect(plan.topics.flatMap(\.lines).map(\.text) == [
            "Customer migrated the primary database from PostgreSQL 14 to AlloyDB last week."
        ])
    }

    @Test func aChangeOutsideTheBatchSupersedesToo() {
        let later = Self.fact("later", "We no longer use Jira.", at: 90)
        let plan = Self.planner().plan([Self.fact("jira", "Tickets are tracked in Jira.", at: 1)], later: [later])
        #expect(plan.decisions["jira"]?.fate == .supersededBy)
        #expect(plan.decisions["jira"]?.ref == "later")
        #expect(plan.topics.isEmpty)
    }

    @Test func anEarlierChangeStatementDoesNotSupersedeALaterFact() {
        let plan = Self.planner().plan([
            Self.fact("change", "Moved from Heroku to Fly.io.", at: 1),
            Self.fact("again", "Evaluating Heroku again for staging.", at: 2),
        ])
        #expect(plan.decisions["again"]?.fate == .kept)
    }

    @Test func anExplicitSupersedesIsRecorded() {
        let plan = Self.planner().plan([Self.fact("a", "Budget is 5k.", at: 1, supersededBy: "b")])
        #expect(plan.decisions["a"] == .init(fate: .supersededBy, ref: "b", topic: nil))
    }

    @Test func templateRepeatsMergeIntoOneLine() throws {
        let facts = (0..<30).map { index in
            Self.fact("i\(index)", "Discussed invoice \(7000 + index) line items; no action needed.", at: Int64(index), importance: 0.55)
        }
        let plan = Self.planner().plan(facts)
        let line = try #require(plan.topics.first?.lines.first?.text)
        #expect(line == "Discussed invoice 7029 line items; no action needed (30 times, invoices 7000–7029, Jan).")
        #expect(plan.decisions.values.allSatisfy { $0.fate == .merged } && plan.decisions.count == 30)
        #expect(plan.decisions["i3"]?.ref == line)
    }

    @Test func withoutVectorsNearlySameWordsAreOneFactNewestWordingHighestImportance() {
        let plan = Self.planner().plan([
            Self.fact("a", "Constraint: AWS free tier only", at: 1, importance: 0.9),
            Self.fact("b", "constraint - AWS free tier only!", at: 2, importance: 0.6),
        ])
        #expect(plan.decisions["a"] == .init(fate: .duplicateOf, ref: "b", topic: 0))
        #expect(plan.topics[0].lines.map(\.text) == ["constraint - AWS free tier only!"])
        #expect(plan.topics[0].lines[0].importance == 0.9)
    }

    @Test(arguments: [(Float(0.95), SourceFate.duplicateOf), (Float(0.85), SourceFate.kept)])
    func withVectorsCosineDecidesDuplicates(cosine: Float, fate: SourceFate) {
        let a: [Float] = [1, 0]
        let b: [Float] = [cosine, (1 - cosine * cosine).squareRoot()]
        let plan = Self.planner().plan([
            Self.fact("a", "Prefers email over phone calls", at: 1, vector: a),
            Self.fact("b", "Likes to be contacted in writing", at: 2, vector: b),
        ])
        #expect(plan.decisions["a"]?.fate == fate)
    }

    @Test func criticalFactsComeFirstThenDecisionsAndALongTopicContinuesInAnotherSummary() {
        let plan = Self.planner { $0.maxSummaryCharacters = 160 }.plan([
            Self.fact("likes", "Likes dark mode in every tool they use at work", at: 1, importance: 0.6),
            Self.fact("decided", "Decided to use Redis for caching", at: 2, importance: 0.6),
            Self.fact("critical", "Production must stay on AWS free tier", at: 3, importance: 0.9),
            Self.fact("more", "Asked about the roadmap for the mobile application", at: 4, importance: 0.7),
        ])
        #expect(plan.topics.map { $0.lines.map(\.text) } == [
            ["Production must stay on AWS free tier", "Decided to use Redis for caching"],
            ["Asked about the roadmap for the mobile application", "Likes dark mode in every tool they use at work"],
        ])
        #expect(plan.topics.allSatisfy { $0.extractiveText.count <= 160 })
        #expect(plan.decisions.values.allSatisfy { $0.fate == .kept }, "no fact is left out for a size")
        #expect(plan.decisions["likes"]?.topic == 1)
        #expect(plan.topics[1].sourceIDs == ["likes", "more"])
    }

    @Test func everyLineSaysWhenItWasSaid() {
        let day: Int64 = 1440
        let plan = Self.planner().plan([
            Self.fact("a", "Discussed invoice 7001 line items", at: 19_850 * day),
            Self.fact("b", "Discussed invoice 7002 line items", at: 19_880 * day),
            Self.fact("c", "Prefers email over phone calls", at: 19_881 * day),
        ])
        #expect(plan.topics[0].extractiveText.split(separator: "\n").map(String.init).sorted() == [
            "- [2024-05-07 – 2024-06-06] Discussed invoice 7002 line items (2 times, invoices 7001–7002, May–Jun)",
            "- [2024-06-07] Prefers email over phone calls",
        ])
    }

    @Test func aSingleFactLongerThanTheCapIsCutAtAWord() {
        let long = String(repeating: "word ", count: 400)
        let plan = Self.planner().plan([Self.fact("long", long, at: 1)])
        #expect(plan.topics[0].extractiveText.count <= 800)
        #expect(plan.topics[0].extractiveText.hasSuffix("word…"))
    }

    @Test(arguments: [
        (MaintenanceConfiguration.SummaryImportance.auto, [0.6, 0.7], 0.7),
        (.auto, [0.95, 0.6], 0.8),
        (.fixed(0.6), [0.95], 0.6),
    ])
    func summaryImportance(setting: MaintenanceConfiguration.SummaryImportance, importances: [Double], expected: Double) {
        let facts = importances.enumerated().map { index, importance in
            Self.fact("f\(index)", "Distinct fact \(["alpha", "beta"][index]) about things", at: Int64(index), importance: importance)
        }
        #expect(Self.planner { $0.summaryImportance = setting }.plan(facts).topics.map(\.importance) == [expected])
    }

    @Test func eachTopicCarriesItsTagsPeriodAndSessions() {
        let plan = Self.planner().plan([
            Self.fact("a", "Invoices go to billing@example.com", at: 1, tags: ["billing", "contact"]),
            Self.fact("b", "Net 30 payment terms agreed", at: 5, tags: ["billing"]),
            Self.fact("c", "Runs on Kubernetes 1.29", at: 3, tags: ["infra"]),
        ])
        #expect(plan.topics.count == 2)
        let billing = plan.topics[0]
        #expect(billing.tags == ["historical-summary", "billing", "contact"])
        #expect(billing.periodStart == 1 * .minute && billing.periodEnd == 5 * .minute)
        #expect(billing.sessionIDs == ["s1", "s5"])
        #expect(plan.topics[1].tags == ["historical-summary", "infra"])
    }

    @Test func atMostMaxTopicsTopics() {
        let facts = (0..<10).map { Self.fact("f\($0)", "Fact about subject \(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"][$0])", at: Int64($0), tags: ["t\($0)"]) }
        #expect(Self.planner { $0.maxTopics = 4 }.plan(facts).topics.count == 4)
    }
}

@Suite struct SizeTriggerTests {
    static func sessions(_ characters: [Int]) -> [SessionRef] {
        characters.enumerated().map { SessionRef(id: "s\($0)", startedAt: Int64($0), endedAt: Int64($0), liveCharacters: $1) }
    }

    @Test func overTheLimitTheOldestSessionsGoUntilUnderEightyPercent() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 2, minAge: 30 * .day, maxLiveCharacters: 1000)
        // 1,200 live characters, 200 of them in open sessions: down to 800 takes s0 and s1.
        let groups = planner.plan(Self.sessions([300, 150, 300, 250]), now: .day, liveCharacters: 1200)
        #expect(groups.map { $0.map(\.id) } == [["s0", "s1"]])
    }

    @Test func underTheLimitNothingGoes() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 2, minAge: 30 * .day, maxLiveCharacters: 1000)
        #expect(planner.plan(Self.sessions([300, 300, 300]), now: .day, liveCharacters: 1000).isEmpty)
    }
}
