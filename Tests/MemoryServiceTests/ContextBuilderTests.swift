import MemoryService
import MemoryStore
import Testing

/// The context block's choices, as plain values: no store, no server.
@Suite struct ContextBuilderTests {
    static let day: UnixMillis = 86_400_000
    static let year2026 = TimeFormat.parseRFC3339("2026-01-01T00:00:00Z")!

    static func fact(_ id: String, _ content: String, day: Int, importance: Double = 0.8, tags: [String] = []) -> Memory {
        Memory(id: id, agentID: "a", content: content, importance: importance, tags: tags, createdAt: Self.year2026 + UnixMillis(day) * Self.day)
    }

    static func summary(_ id: String, _ lines: [String], from start: String, to end: String) -> Memory {
        Memory(
            id: id, agentID: "a", content: lines.map { "- " + $0 }.joined(separator: "\n"), memoryType: .semantic,
            importance: 0.7, tags: [Memory.summaryTag],
            metadata: .object(["period_start": .string(start), "period_end": .string(end)]),
            createdAt: TimeFormat.parseRFC3339(end)!)
    }

    static let material = ContextMaterial(
        facts: [
            fact("f1", "Constraint: AWS free tier only.", day: 150, importance: 0.9),
            fact("f2", "Auth is done; rate limiting is next.", day: 170),
            fact("f3", "Deploys go through GitHub Actions.", day: 160),
        ],
        summaries: [
            summary("s2", ["[2026-03-02] Asked about connection pooling.", "[2026-03-10 – 2026-04-20] Enabled gzip on the API."], from: "2026-03-02T00:00:00Z", to: "2026-04-20T00:00:00Z"),
            summary("s1", ["Set up the project skeleton."], from: "2026-01-05T00:00:00Z", to: "2026-02-27T00:00:00Z"),
        ],
        supersededSources: [:])

    @Test func theTextHasFactsThenHistoryNewestPeriodFirstThenOpenTasks() {
        let block = ContextBuilder(budgetTokens: 400).build(Self.material)
        #expect(
            block.text == """
                Current facts:
                - [2026-05-31] Constraint: AWS free tier only.
                - [2026-06-10] Deploys go through GitHub Actions.

                History (newest first):
                2026-03 to 2026-04:
                - [2026-03-02] Asked about connection pooling.
                - [2026-03-10 – 2026-04-20] Enabled gzip on the API.
                2026-01 to 2026-02:
                - Set up the project skeleton.

                Open tasks:
                - [2026-06-20] Auth is done; rate limiting is next.
                """)
        #expect(block.memoryIDs == ["f1", "f3", "s2", "s1", "f2"])
        #expect(!block.truncated)
        #expect(block.tokens == ContextBuilder.estimatedTokens(block.text))
    }

    /// Consolidation keeps kept facts live: a summary line that is also a current fact is said
    /// once, as the fact.
    @Test func aSummaryLineThatIsACurrentFactIsSaidOnce() {
        var material = Self.material
        material.facts.append(Self.fact("f4", "Enabled gzip on the API.", day: 100))
        let text = ContextBuilder(budgetTokens: 400).build(material).text
        #expect(text.components(separatedBy: "Enabled gzip on the API.").count == 2, "\(text)")
        #expect(text.contains("- [2026-04-11] Enabled gzip on the API."))
    }

    @Test(arguments: [1, 5, 12, 20, 30, 45, 60, 400])
    func theBudgetIsNeverExceededAndOpenTasksGoInFirst(budget: Int) {
        let block = ContextBuilder(budgetTokens: budget).build(Self.material)
        let whole = ContextBuilder(budgetTokens: 400).build(Self.material)
        let tasksAlone = ContextBuilder(budgetTokens: 400, include: [.openTasks]).build(Self.material)
        #expect(block.tokens <= budget)
        #expect(block.tokens == ContextBuilder.estimatedTokens(block.text))
        #expect(block.truncated == (block.text != whole.text))
        #expect(block.memoryIDs.contains("f2") == (budget >= tasksAlone.tokens))
    }

    @Test func theEstimatorCountsWordsTimesOnePointThreeRoundedUp() {
        #expect(ContextBuilder.estimatedTokens("") == 0)
        #expect(ContextBuilder.estimatedTokens("one") == 2)
        #expect(ContextBuilder.estimatedTokens("one two  three\nfour - five") == 8)
        #expect(ContextBuilder.estimatedTokens(Array(repeating: "w", count: 10).joined(separator: " ")) == 13)
    }

    @Test(arguments: [
        (ContextSection.facts, "Current facts:", ["f1", "f3"]),
        (.summaries, "History (newest first):", ["s2", "s1"]),
        (.openTasks, "Open tasks:", ["f2"]),
    ])
    func includeNarrowsTheBlockToOnePart(section: ContextSection, header: String, ids: [String]) {
        let block = ContextBuilder(budgetTokens: 400, include: [section]).build(Self.material)
        #expect(block.text.hasPrefix(header))
        #expect(block.memoryIDs == ids)
    }

    @Test(arguments: [
        ("Rate limiting is next.", [String](), true),
        ("TODO: rotate the API keys", [], true),
        ("Still need to migrate the cron jobs.", [], true),
        ("Follow-up on the invoice dispute.", [], true),
        ("Renew the certificate", ["task"], true),
        ("Runs Next.js 14 on Vercel.", [], false),
        ("Customer prefers email over phone.", [], false),
    ])
    func openTasksAreTaggedOrWordedAsStillToDo(content: String, tags: [String], isTask: Bool) {
        let material = ContextMaterial(facts: [Self.fact("t", content, day: 1, tags: tags)], summaries: [], supersededSources: [:])
        let block = ContextBuilder(budgetTokens: 100).build(material)
        #expect(block.text.hasPrefix("Open tasks:") == isTask)
    }

    @Test func aLaterChangeStatementMakesEarlierFactsAndHistoryLinesStale() {
        let material = ContextMaterial(
            facts: [
                Self.fact("new", "We migrated the database from PostgreSQL 14 to MySQL 8.", day: 100),
                Self.fact("old", "The API runs on PostgreSQL 14.", day: 10),
            ],
            summaries: [
                Self.summary("s", ["Stack: FastAPI with PostgreSQL 14 on AWS ECS.", "Uses Redis for sessions."],
                    from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z")
            ],
            supersededSources: [:])
        let block = ContextBuilder(budgetTokens: 400).build(material)
        #expect(block.text.contains("MySQL 8"))
        #expect(!block.text.contains("The API runs on PostgreSQL 14"))
        #expect(!block.text.contains("FastAPI with PostgreSQL 14"))
        #expect(block.text.contains("Uses Redis for sessions."))
        #expect(block.memoryIDs == ["new", "s"])
    }

    @Test func linesOfSourcesSupersededSinceTheSummaryAreLeftOut() {
        let material = ContextMaterial(
            facts: [],
            summaries: [Self.summary("s", ["Deploys with Jenkins.", "Uses Sentry."], from: "2026-01-01T00:00:00Z", to: "2026-01-09T00:00:00Z")],
            supersededSources: ["s": ["Deploys with Jenkins."]])
        let block = ContextBuilder(budgetTokens: 400).build(material)
        #expect(block.text == "History (newest first):\n2026-01:\n- Uses Sentry.")
    }
}
