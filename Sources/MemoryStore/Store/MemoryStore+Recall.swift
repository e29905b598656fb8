import Foundation
import GRDB

/// How recall ranks: a blend of relevance, importance and recency.
public struct RecallWeights: Sendable, Equatable {
    public var relevance = 0.6
    public var importance = 0.3
    public var recency = 0.1
    /// Recency halves every this many milliseconds of the memory's age (since it was created).
    public var recencyHalfLife: UnixMillis = 7 * 86_400_000
    /// The share of full-text relevance (BM25) in relevance; the rest is semantic similarity.
    /// This and `session` were chosen on LoCoMo's development half (Benchmarks/QUALITY.md).
    public var lexical = 0.5
    /// The share of relevance that comes from the best match among the memory's session's
    /// candidates: facts of one conversation support each other.
    public var session = 0.4

    public init() {}
}

public struct RecallQuery: Sendable {
    public var agentID: String
    public var query: String
    public var topK = 5
    public var minImportance: Double?
    public var memoryType: MemoryType?
    /// Any of these tags.
    public var tags: [String]?
    public var sessionID: String?
    public var since: UnixMillis?
    public var until: UnixMillis?
    public var includeArchived = false
    public var includeSuperseded = false
    /// Consolidation summaries restate facts that stay live memories: recall answers with the
    /// facts, and summaries serve the context block and the overview. They come back when asked
    /// for (this, or `tags` naming `historical-summary`).
    public var includeSummaries = false
    /// The query's vector; nil ranks by full text alone.
    public var embedding: QueryEmbedding?

    public init(agentID: String, query: String) {
        self.agentID = agentID
        self.query = query
    }
}

extension RecallQuery {
    var asksForSummaries: Bool { includeSummaries || tags?.contains(Memory.summaryTag) == true }

    /// The filter of the context block's summaries: the agent's visible, live ones.
    static func summaries(of agentID: String) -> RecallQuery {
        var query = RecallQuery(agentID: agentID, query: "")
        query.includeSummaries = true
        return query
    }
}

public struct RecallHit: Sendable {
    public var memory: Memory
    /// Semantic similarity to the query in 0…1 (cosine, negatives as 0); for a memory without
    /// a vector of the query's model yet, its full-text relevance in 0…1.
    public var score: Double
    /// The blended ranking value the results are ordered by.
    public var rankScore: Double
}

/// Filters of the bulk (filter-only) recall: Dakera's `BatchMemoryFilter`.
public struct MemoryFilter: Sendable {
    public var tags: [String]?
    public var minImportance: Double?
    public var maxImportance: Double?
    public var createdAfter: UnixMillis?
    public var createdBefore: UnixMillis?
    public var memoryType: MemoryType?
    public var sessionID: String?
    public init() {}
}

extension MemoryStore {
    public static let maxTopK = 100

    /// Ranked recall for one agent: the agent's nearest vectors (with `query.embedding`) and
    /// its best BM25 matches, fused on one normalised scale (see `choose`), then weighted by
    /// importance and recency; when fewer match than `topK`, the agent's most important, newest
    /// memories follow. The ranking is a read, concurrent with other recalls; what it returns then
    /// counts as accessed (access reinforcement) and, with a session, as activity of that
    /// session, in one short write transaction that also returns the session with its moved
    /// deadline. `supersededHidden` counts the superseded memories that ranked among the
    /// answers and were left out (0 with `includeSuperseded`).
    public func recall(_ query: RecallQuery, weights: RecallWeights) async throws
        -> (hits: [RecallHit], session: Session?, supersededHidden: Int)
    {
        try Validation.agentID(query.agentID)
        guard (1...Self.maxTopK).contains(query.topK) else {
            throw StoreError.invalidArgument(field: "top_k", reason: "must be between 1 and \(Self.maxTopK)")
        }
        if let minImportance = query.minImportance { try Validation.importance(minImportance, field: "min_importance") }
        if let tags = query.tags { try Validation.tags(tags) }
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.recall(
                query, weights: weights, now: now, vectors: vectors, lexical: lexical,
                defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        let ranked = try await read { [vectors, lexical] db in
            if let sessionID = query.sessionID {
                guard let session = try Self.fetchSession(db, id: sessionID), session.agentID == query.agentID else {
                    throw StoreError.sessionNotFound(sessionID)
                }
            }
            return try Self.rank(db, query: query, vectors: vectors, lexical: lexical, weights: weights, now: now)
        }
        return try await groupWrite { db in
            try Self.markAccessed(db, ids: ranked.hits.map(\.memory.id), now: now)
            var session: Session?
            if let sessionID = query.sessionID {
                try self.recordActivity(db, sessionID: sessionID, now: now)
                session = try Self.fetchSession(db, id: sessionID)
            }
            return (Self.accessed(ranked.hits, now: now), session, ranked.supersededHidden)
        }
    }

    /// A candidate of one recall: what ranking needs (whole memories are read for the winners
    /// only).
    struct Candidate {
        var id: String
        var importance: Double
        var createdAt: UnixMillis
        var superseded: Bool
        var sessionID: String?

        static let columns = """
            memories.id, memories.importance, memories.created_at, memories.superseded_by IS NOT NULL, memories.session_id
            """

        init(row: Row) {
            self.init(id: row[0], importance: row[1], createdAt: row[2], superseded: row[3], sessionID: row[4])
        }

        init(id: String, importance: Double, createdAt: UnixMillis, superseded: Bool, sessionID: String?) {
            self.id = id
            self.importance = importance
            self.createdAt = createdAt
            self.superseded = superseded
            self.sessionID = sessionID
        }
    }

    /// A ranked candidate: its score (what the answer shows) and its rank (what orders it).
    struct Ranked {
        var candidate: Candidate
        var score: Double
        var rank: Double
    }

    /// What one recall ranks by, from the agent's in-memory copies: each memory's cosine
    /// similarity to the query vector (when there is one) and its BM25 for the query's terms.
    struct RecallSignals {
        let nearest: NearestVectors?
        let lexicalIndex: LexicalCache.Index
        let lexical: [Float]
        /// What a memory matching the whole query would score (`LexicalCache.Index.fullMatch`).
        let fullMatch: Float

        init(query: RecallQuery, vectors: VectorCache.Snapshot?, lexicalIndex: LexicalCache.Index) {
            if let vectors, let embedding = query.embedding {
                nearest = NearestVectors(snapshot: vectors, query: embedding.vector)
            } else {
                nearest = nil
            }
            self.lexicalIndex = lexicalIndex
            let terms = LexicalText.terms(query.query)
            lexical = lexicalIndex.scores(for: terms)
            fullMatch = lexicalIndex.fullMatch(of: terms)
        }

        func lexical(of id: String) -> Float { lexicalIndex.position[id].map { lexical[$0] } ?? 0 }

        /// The best `count` full-text matches (BM25 above 0), best first.
        func lexicalTop(_ count: Int) -> [String] {
            TopScores.indices(of: lexical, count: count).prefix { lexical[$0] > 0 }.map { lexicalIndex.ids[$0] }
        }
    }

    /// The decision of recall, the same on every backend. Relevance fuses the two sides on one
    /// scale: similarity min-max normalised over the candidates, BM25 as a share of a full
    /// match's (at most 1: a match on a few common words of a paraphrase stays weak), mixed by
    /// `weights.lexical`. A memory with no vector yet takes the median
    /// normalised similarity of the candidates that have one, so lacking a vector neither lifts
    /// nor sinks it. Then importance and recency (of the memory's own time, never of its use: a
    /// recall must not move the next). The best `topK`, with the superseded ones ranked among
    /// them left out and counted.
    static func choose(
        _ candidates: [String: Candidate], query: RecallQuery, signals: RecallSignals, weights: RecallWeights,
        now: UnixMillis
    ) -> (winners: [Ranked], supersededHidden: Int) {
        let similarities = candidates.keys.compactMap { signals.nearest?.similarity(of: $0).map(Double.init) }.sorted()
        let lowest = similarities.first ?? 0
        let spread = (similarities.last ?? 0) - lowest
        func normalised(_ similarity: Double) -> Double { spread > 0 ? (similarity - lowest) / spread : 1 }
        let imputed = similarities.isEmpty ? 0 : normalised(similarities[similarities.count / 2])
        let fullMatch = Double(signals.fullMatch)
        let lexicalShare = signals.nearest == nil ? 1 : min(1, max(0, weights.lexical))
        let own = candidates.mapValues { candidate in
            let similarity = signals.nearest?.similarity(of: candidate.id).map(Double.init)
            let lexical = fullMatch > 0 ? min(1, Double(signals.lexical(of: candidate.id)) / fullMatch) : 0
            let semantic = similarity.map(normalised) ?? imputed
            return (relevance: lexicalShare * lexical + (1 - lexicalShare) * semantic, similarity: similarity, lexical: lexical)
        }
        var sessionBest: [String: Double] = [:]
        for (id, scored) in own {
            guard let session = candidates[id]?.sessionID else { continue }
            sessionBest[session] = max(sessionBest[session] ?? 0, scored.relevance)
        }
        let sessionShare = min(1, max(0, weights.session))
        let ranked = candidates.values.map { candidate in
            let (ownRelevance, similarity, lexical) = own[candidate.id]!
            let context = candidate.sessionID.flatMap { sessionBest[$0] } ?? ownRelevance
            let relevance = (1 - sessionShare) * ownRelevance + sessionShare * context
            let age = Double(max(0, now - candidate.createdAt))
            let recency = pow(0.5, age / Double(weights.recencyHalfLife))
            let rank = weights.relevance * relevance + weights.importance * candidate.importance + weights.recency * recency
            return Ranked(candidate: candidate, score: similarity.map { min(1, max(0, $0)) } ?? lexical, rank: rank)
        }
        .sorted {
            ($0.rank, $0.candidate.createdAt, $0.candidate.id) > ($1.rank, $1.candidate.createdAt, $1.candidate.id)
        }
        var winners: [Ranked] = []
        var supersededHidden = 0
        for entry in ranked where winners.count < query.topK {
            if entry.candidate.superseded && !query.includeSuperseded {
                supersededHidden += 1
            } else {
                winners.append(entry)
            }
        }
        return (winners, supersededHidden)
    }

    /// The memories that follow the matches when fewer than `topK` match (no model, or a
    /// query that shares no word with the agent's memories): most important, newest first,
    /// ranked by importance and recency alone, with score 0.
    static func followers(_ candidates: [Candidate], weights: RecallWeights, now: UnixMillis) -> [Ranked] {
        candidates.map { candidate in
            let recency = pow(0.5, Double(max(0, now - candidate.createdAt)) / Double(weights.recencyHalfLife))
            return Ranked(
                candidate: candidate, score: 0, rank: weights.importance * candidate.importance + weights.recency * recency)
        }
    }

    /// The hits of `winners`, in their order, from their memories read afterwards.
    static func hits(_ winners: [Ranked], memories: [Memory]) -> [RecallHit] {
        let byID = Dictionary(uniqueKeysWithValues: memories.map { ($0.id, $0) })
        return winners.compactMap { winner in
            byID[winner.candidate.id].map { RecallHit(memory: $0, score: winner.score, rankScore: winner.rank) }
        }
    }

    /// What recall's write does to a hit's memory: accessed now (live ones only), decay restarted.
    static func accessed(_ hits: [RecallHit], now: UnixMillis) -> [RecallHit] {
        hits.map { hit in
            var hit = hit
            if hit.memory.archivedAt == nil {
                hit.memory.accessCount += 1
                hit.memory.lastAccessedAt = now
                hit.memory.importance = hit.memory.baseImportance
                hit.memory.decayRefAt = now
            }
            return hit
        }
    }

    /// The candidates of one recall, on any backend: the best `max(10 × topK, 100)` of each side
    /// (nearest vectors, then full-text matches) that pass the filters, widened while the
    /// filters leave too few. The backend reads the ids `next()` names and hands the rows that
    /// pass to `received`.
    struct CandidateSearch {
        private(set) var candidates: [String: Candidate] = [:]
        private let sides: [(Int) -> [String]]
        private let initialPool: Int
        private var side = 0
        private var pool: Int
        private var asked: [String] = []

        init(query: RecallQuery, signals: RecallSignals) {
            var sides: [(Int) -> [String]] = []
            if let nearest = signals.nearest { sides.append(nearest.top) }
            sides.append(signals.lexicalTop)
            self.sides = sides
            initialPool = max(query.topK * 10, 100)
            pool = initialPool
        }

        /// The ids to read next (those not read already), or nil when the search is over.
        mutating func next() -> [String]? {
            guard side < sides.count else { return nil }
            asked = sides[side](pool)
            return asked.filter { candidates[$0] == nil }
        }

        mutating func received(_ found: [Candidate]) {
            for candidate in found { candidates[candidate.id] = candidate }
            let passing = asked.count { candidates[$0] != nil }
            if passing >= pool / 4 || asked.count < pool {
                side += 1
                pool = initialPool
            } else {
                pool *= 8
            }
        }
    }

    /// The ranking of one recall, best first, at most `topK`: the decision of `choose` over the
    /// candidates of `CandidateSearch`, then `followers` when fewer than `topK` were found.
    /// Superseded memories are ranked too, so that those left out of the answer can be counted.
    static func rank(
        _ db: Database, query: RecallQuery, vectors: VectorCache, lexical: LexicalCache, weights: RecallWeights,
        now: UnixMillis
    ) throws -> (hits: [RecallHit], supersededHidden: Int) {
        let signals = RecallSignals(
            query: query, vectors: try query.embedding.map { try vectors.snapshot(db, agent: query.agentID, model: $0.model) },
            lexicalIndex: try lexical.index(db, agent: query.agentID))
        var ranking = query
        ranking.includeSuperseded = true
        let (conditions, arguments) = recallFilter(ranking, now: now)
        let predicate = conditions.joined(separator: " AND ")
        var search = CandidateSearch(query: query, signals: signals)
        while let ids = search.next() {
            var arguments = arguments
            arguments["ids"] = Memory.tagsText(ids)
            // CROSS JOIN keeps the ids the outer loop: one primary-key probe each, where the
            // planner would otherwise walk the agent's whole index (every memory of the agent,
            // twice per recall).
            search.received(
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Candidate.columns) FROM json_each(:ids) AS candidate
                        CROSS JOIN memories ON memories.id = candidate.value
                        WHERE \(predicate)
                        """,
                    arguments: StatementArguments(arguments)
                ).map(Candidate.init(row:)))
        }
        var (winners, supersededHidden) = choose(search.candidates, query: query, signals: signals, weights: weights, now: now)
        if winners.count < query.topK {
            var (conditions, arguments) = recallFilter(query, now: now)
            arguments["ids"] = Memory.tagsText(winners.map(\.candidate.id))
            arguments["limit"] = query.topK - winners.count
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Candidate.columns) FROM memories
                    WHERE memories.id NOT IN (SELECT value FROM json_each(:ids)) AND \(conditions.joined(separator: " AND "))
                    ORDER BY memories.importance DESC, memories.created_at DESC, memories.id LIMIT :limit
                    """,
                arguments: StatementArguments(arguments))
            winners += followers(rows.map(Candidate.init(row:)), weights: weights, now: now)
        }
        let memories = try Memory.fetchAll(
            db, sql: "SELECT \(Memory.columns) FROM memories WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [Memory.tagsText(winners.map(\.candidate.id))])
        return (hits(winners, memories: memories), supersededHidden)
    }

    /// The WHERE conditions every recall applies.
    static func recallFilter(_ query: RecallQuery, now: UnixMillis) -> ([String], [String: (any DatabaseValueConvertible)?]) {
        var conditions = ["memories.agent_id = :agent", visibleMemory.replacingOccurrences(of: "expires_at", with: "memories.expires_at")]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["agent": query.agentID, "now": now]
        if !query.includeArchived { conditions.append("memories.archived_at IS NULL") }
        if !query.includeSuperseded { conditions.append("memories.superseded_by IS NULL") }
        if !query.asksForSummaries { conditions.append("NOT \(isSummary)") }
        if let minImportance = query.minImportance {
            conditions.append("memories.importance >= :min_importance")
            arguments["min_importance"] = minImportance
        }
        if let type = query.memoryType {
            conditions.append("memories.memory_type = :type")
            arguments["type"] = type.rawValue
        }
        if let tags = query.tags, !tags.isEmpty {
            conditions.append("EXISTS (SELECT 1 FROM json_each(memories.tags) WHERE value IN (SELECT value FROM json_each(:tags)))")
            arguments["tags"] = Memory.tagsText(tags)
        }
        if let sessionID = query.sessionID {
            conditions.append("memories.session_id = :session")
            arguments["session"] = sessionID
        }
        if let since = query.since {
            conditions.append("memories.created_at >= :since")
            arguments["since"] = since
        }
        if let until = query.until {
            conditions.append("memories.created_at <= :until")
            arguments["until"] = until
        }
        return (conditions, arguments)
    }

    /// The agent's token in the full-text index: 'a' + upper-case hex of the id, as the triggers
    /// write it with SQL's hex().
    static func agentToken(_ agentID: String) -> String {
        "a" + agentID.utf8.map { String(format: "%02X", $0) }.joined()
    }

    static func markAccessed(_ db: Database, ids: [String], now: UnixMillis) throws {
        let mark = try db.cachedStatement(
            sql: """
                UPDATE memories SET access_count = access_count + 1, last_accessed_at = :now,
                    decay_ref_at = :now, importance = base_importance
                WHERE id = :id AND archived_at IS NULL AND \(visibleMemory)
                """)
        for id in ids { try mark.execute(arguments: ["now": now, "id": id]) }
    }

    /// Filter-only bulk recall (no ranking, no access): the agent's visible, live memories that
    /// pass `filter`, newest first, with the agent's total and the filtered count.
    public func filteredMemories(agentID: String, filter: MemoryFilter, limit: Int) async throws
        -> (memories: [Memory], total: Int, filtered: Int)
    {
        try Validation.agentID(agentID)
        guard (1...1000).contains(limit) else {
            throw StoreError.invalidArgument(field: "limit", reason: "must be between 1 and 1000")
        }
        let now = clock.now()
        var base = RecallQuery(agentID: agentID, query: "")
        base.includeSummaries = true
        base.minImportance = filter.minImportance
        base.memoryType = filter.memoryType
        base.tags = filter.tags
        base.sessionID = filter.sessionID
        base.since = filter.createdAfter
        base.until = filter.createdBefore
        let query = base
        let maxImportance = filter.maxImportance
        if case .postgres(let postgres) = engine {
            return try await postgres.filteredMemories(
                agentID: agentID, query: query, maxImportance: maxImportance, limit: limit, now: now)
        }
        return try await read { db in
            var (conditions, arguments) = Self.recallFilter(query, now: now)
            if let maxImportance {
                conditions.append("memories.importance <= :max_importance")
                arguments["max_importance"] = maxImportance
            }
            let predicate = conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM memories WHERE agent_id = :agent AND archived_at IS NULL AND \(visibleMemory)",
                arguments: ["agent": agentID, "now": now]) ?? 0
            let filtered = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM memories WHERE \(predicate)", arguments: StatementArguments(arguments)) ?? 0
            arguments["limit"] = limit
            let memories = try Memory.fetchAll(
                db, sql: "SELECT \(Memory.columns) FROM memories WHERE \(predicate) ORDER BY created_at DESC, id LIMIT :limit",
                arguments: StatementArguments(arguments))
            return (memories, total, filtered)
        }
    }
}
