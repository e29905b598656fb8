import Foundation
@testable import MemoryStore
import Testing
import TestSupport

/// Recall's ranking against a real store: full text by stems, one scale, no feedback from use.
@Suite struct RecallRankingTests {
    static let model = EmbeddingModel(name: "test-model", dimensions: 3)

    /// Notes that share the query's words, with vectors spread around the query's, so that
    /// relevance, importance and recency all take part.
    static func fill(_ store: MemoryStore, agent: String) async throws {
        let topics = ["database migration", "deploy pipeline", "billing invoices", "rate limiting"]
        var news: [NewMemory] = []
        var vectors: [[Float]] = []
        for index in 0..<40 {
            let topic = topics[index % topics.count]
            news.append(NewMemory(agentID: agent, content: "note \(index) about the \(topic) work", importance: 0.5))
            let angle = Float(index) * 0.15
            vectors.append([cos(angle), sin(angle), 0.2])
        }
        _ = try await store.storeMemories(news, vectors: (model, vectors))
    }

    static let questions: [(String, [Float])] = [
        ("how did the database migrations go", [1, 0, 0]), ("what is deployed by the pipeline", [0, 1, 0]),
        ("are the invoices billed", [0.7, 0.7, 0]), ("limits on the rate", [0, 0, 1]), ("migrating databases", [0.5, 0.2, 0.1]),
    ]

    static func ask(_ store: MemoryStore, clock: ManualClock, agent: String, _ order: [Int]) async throws -> [Int: [String]] {
        var answers: [Int: [String]] = [:]
        for index in order {
            var query = RecallQuery(agentID: agent, query: questions[index].0)
            query.topK = 5
            query.embedding = QueryEmbedding(model: model, vector: questions[index].1)
            answers[index] = try await store.recall(query, weights: RecallWeights()).hits.map(\.memory.id)
            clock.advance(seconds: 86_400)
        }
        return answers
    }

    @Test(arguments: TestBackend.allCases)
    func theSameQuestionsInAnotherOrderGetTheSameAnswers(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            try await Self.fill(test.store, agent: "asker")
            let forward = try await Self.ask(test.store, clock: test.clock, agent: "asker", Array(Self.questions.indices))
            let backward = try await Self.ask(
                test.store, clock: test.clock, agent: "asker", Array(Self.questions.indices.reversed()))
            #expect(forward == backward)
            #expect(forward.values.allSatisfy { $0.count == 5 })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func fullTextMatchesWordsByTheirStems(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let stored = try await test.store.storeMemories([
                NewMemory(agentID: "stems", content: "Caroline went running with the kids"),
                NewMemory(agentID: "stems", content: "Melanie paints landscapes"),
            ])
            var query = RecallQuery(agentID: "stems", query: "Who runs?")
            query.topK = 1
            let hits = try await test.store.recall(query, weights: RecallWeights()).hits
            #expect(hits.map(\.memory.id) == [stored.memories[0].id])
        }
    }

    /// The session-start pattern without a model: a question that shares few words with the
    /// facts still returns every fact that passes the filters.
    @Test(arguments: TestBackend.allCases)
    func withoutAModelFewerMatchesThanTopKAreFollowedByTheMostImportantNewest(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let facts = try await test.store.storeMemories([
                NewMemory(agentID: "support-1", content: "customer runs FastAPI + PostgreSQL 14 on AWS ECS", importance: 0.9),
                NewMemory(agentID: "support-1", content: "auth is done, rate limiting is next", importance: 0.8),
                NewMemory(agentID: "support-1", content: "constraint: AWS free tier only", importance: 0.75),
                NewMemory(agentID: "support-1", content: "customer said hello on the AWS stack call", importance: 0.3),
            ]).memories
            var query = RecallQuery(
                agentID: "support-1", query: "project progress, open tasks, decisions, constraints: I am back to add rate limiting")
            query.topK = 8
            query.minImportance = 0.72
            let hits = try await test.store.recall(query, weights: RecallWeights()).hits
            #expect(hits.first?.memory.id == facts[1].id, "the match first")
            #expect(Set(hits.map(\.memory.id)) == Set(facts.prefix(3).map(\.id)))

            _ = try await test.store.updateMemory(id: facts[0].id, MemoryUpdate(content: "customer moved to MySQL 8 on AWS ECS"))
            var database = RecallQuery(agentID: "support-1", query: "database")
            database.topK = 3
            #expect(try await test.store.recall(database, weights: RecallWeights()).hits.first?.memory.id == facts[0].id)
        }
    }

    /// Of two equally matching memories, the one whose conversation also holds the query's best
    /// match ranks first, though the other is newer (which would win a tie).
    @Test(arguments: TestBackend.allCases)
    func aMemoryWhoseSessionHoldsTheBestMatchOutranksAnEqualOne(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let store = test.store
            let launch = try await store.startSession(SessionStart(agentID: "lift"))
            let other = try await store.startSession(SessionStart(agentID: "lift"))
            let ids = try await store.storeMemories([
                NewMemory(agentID: "lift", sessionID: launch.id, content: "we planned the billing service launch"),
                NewMemory(agentID: "lift", sessionID: launch.id, content: "it finished on Friday"),
            ]).memories.map(\.id)
            test.clock.advance(seconds: 60)
            _ = try await store.storeMemories([NewMemory(agentID: "lift", sessionID: other.id, content: "it finished on Monday")])
            var query = RecallQuery(agentID: "lift", query: "when was the billing service launch finished")
            query.topK = 3
            let hits = try await store.recall(query, weights: RecallWeights()).hits.map(\.memory.id)
            #expect(Array(hits.prefix(2)) == ids)
        }
    }

    /// Matches (score above 0) of a full-text recall, best first.
    static func matches(_ store: MemoryStore, agent: String, _ text: String) async throws -> [String] {
        var query = RecallQuery(agentID: agent, query: text)
        query.topK = 10
        return try await store.recall(query, weights: RecallWeights()).hits.filter { $0.score > 0 }.map(\.memory.id)
    }

    @Test(arguments: TestBackend.allCases)
    func theFullTextIndexFollowsInsertsContentChangesAndDeletes(backend: TestBackend) async throws {
        try await TestStore.with(backend) { test in
            let store = test.store
            let a = try await store.storeMemories([NewMemory(agentID: "idx", content: "alpha bravo")]).memories[0].id
            #expect(try await Self.matches(store, agent: "idx", "bravo") == [a])
            let b = try await store.storeMemories([NewMemory(agentID: "idx", content: "bravo charlie")]).memories[0].id
            #expect(try await Self.matches(store, agent: "idx", "charlie") == [b], "an insert is appended")
            _ = try await store.updateMemory(id: a, MemoryUpdate(content: "delta echo"))
            #expect(try await Self.matches(store, agent: "idx", "delta") == [a], "a changed content is read again")
            #expect(try await Self.matches(store, agent: "idx", "bravo") == [b])
            _ = try await store.forget(ids: [b], agentID: "idx")
            #expect(try await Self.matches(store, agent: "idx", "charlie").isEmpty, "a delete is read again")
            _ = try await store.storeMemories([NewMemory(agentID: "other", content: "charlie")])
            #expect(try await Self.matches(store, agent: "idx", "charlie").isEmpty, "another agent's memory is not this one's")
        }
    }

    @Test(arguments: [
        ("caresses", "caress"), ("ponies", "poni"), ("ties", "ti"), ("cats", "cat"), ("feed", "feed"), ("agreed", "agre"),
        ("plastered", "plaster"), ("motoring", "motor"), ("sing", "sing"), ("conflated", "conflat"), ("troubled", "troubl"),
        ("sized", "size"), ("hopping", "hop"), ("falling", "fall"), ("hissing", "hiss"), ("filing", "file"),
        ("happy", "happi"), ("relational", "relat"), ("conditional", "condit"), ("rational", "ration"),
        ("generalizations", "gener"), ("oscillators", "oscil"), ("running", "run"), ("limiting", "limit"), ("go", "go"),
        ("café", "café"),
    ])
    func porterStemsAsTheReferenceDoes(word: String, stem: String) {
        #expect(PorterStemmer.stem(word) == stem)
    }

    static func index(_ texts: [(String, String)], previous: LexicalCache.Index? = nil) -> LexicalCache.Index {
        var rows = LexicalCache.Rows(key: "agent", base: nil, previous: previous)
        for (id, content) in texts { rows.add(memoryID: id, content: content) }
        return rows.build()
    }

    /// A whole read after deletes and a changed content reuses the earlier index's analysis of
    /// the unchanged memories: it must rank exactly as an index built from nothing.
    @Test func anIndexReadAgainOverAnEarlierOneScoresAsAFreshOne() {
        let earlier = Self.index([
            ("a", "we moved billing to PostgreSQL"), ("b", "billing runs on AWS"), ("c", "the migration finished"),
            ("d", "PostgreSQL upgrade planned"),
        ])
        let now = [("b", "billing runs on AWS"), ("c", "the billing migration slipped"), ("d", "PostgreSQL upgrade planned"),
                   ("e", "AWS credits for the migration")]
        let reread = Self.index(now, previous: earlier)
        let fresh = Self.index(now)
        for query in ["postgresql billing", "migration", "aws credits", "finished", "we moved"] {
            let terms = LexicalText.terms(query)
            #expect(reread.scores(for: terms) == fresh.scores(for: terms), "\(query)")
            #expect(reread.fullMatch(of: terms) == fresh.fullMatch(of: terms), "\(query)")
        }
        #expect(reread.scores(for: ["finish"]) == [0, 0, 0, 0], "c's old content is gone")
    }

    @Test func queriesLoseTheirStopWords() {
        #expect(LexicalText.terms("When did Caroline go to the LGBTQ support group?") == ["carolin", "go", "lgbtq", "support", "group"])
    }
}
