import Foundation
import GRDB

/// How recall ranks: a blend of full-text relevance, importance and recency.
public struct RecallWeights: Sendable, Equatable {
    public var relevance = 0.6
    public var importance = 0.3
    public var recency = 0.1
    /// Recency halves every this many milliseconds of age.
    public var recencyHalfLife: UnixMillis = 7 * 86_400_000
    /// How much a full-text match lifts a semantic match towards 1.
    public var lexicalBoost = 0.3
    /// The bm25 value at which full-text relevance is 0.5.
    public var bm25HalfPoint = 4.0
    /// PostgreSQL's `ts_rank` at which full-text relevance is 0.5 (one match of a short text
    /// ranks about 0.06: ts_rank weighs frequency and position, not rarity as bm25 does).
    public var tsRankHalfPoint = 0.06

    public init() {}

    /// Full-text relevance in 0…1 from FTS5's bm25 (negative; more negative is better). A
    /// fixed saturation, not "relative to the best match": a match on a common word stays weak
    /// even when it is the best the query has.
    public func lexicalRelevance(bm25: Double) -> Double {
        let strength = max(0, -bm25)
        return strength / (strength + bm25HalfPoint)
    }

    /// Full-text relevance in 0…1 from PostgreSQL's `ts_rank` (positive; larger is better),
    /// saturating as `lexicalRelevance(bm25:)` does.
    public func lexicalRelevance(tsRank: Double) -> Double {
        let strength = max(0, tsRank)
        return strength / (strength + tsRankHalfPoint)
    }

    /// The relevance recall ranks by. A normalised blend rather than reciprocal rank fusion:
    /// cosine similarity is calibrated (a weak nearest neighbour stays weak), and ranks would
    /// let a full-text match on a stop word outrank the semantic answer to a paraphrase. With
    /// a similarity, a full-text match lifts it towards 1 by `lexicalBoost` of the rest; without
    /// one (no vector yet, or no query vector), full-text relevance alone.
    public func fuse(similarity: Float?, lexical: Double) -> Double {
        guard let similarity else { return lexical }
        let semantic = min(1, max(0, Double(similarity)))
        return semantic + lexicalBoost * lexical * (1 - semantic)
    }
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
    /// The query's vector; nil ranks by full text alone.
    public var embedding: QueryEmbedding?

    public init(agentID: String, query: String) {
        self.agentID = agentID
        self.query = query
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
    /// its full-text matches, fused (see `RecallWeights.fuse`), then weighted by importance and
    /// recency. The ranking is a read, concurrent with other recalls; what it returns then
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
                query, weights: weights, now: now, vectors: vectors, defaultTimeout: configuration.defaultIdleTimeoutSeconds)
        }
        let ranked = try await read { [vectors] db in
            if let sessionID = query.sessionID {
                guard let session = try Self.fetchSession(db, id: sessionID), session.agentID == query.agentID else {
                    throw StoreError.sessionNotFound(sessionID)
                }
            }
            let nearest = try query.embedding.map { embedding in
                NearestVectors(snapshot: try vectors.snapshot(db, agent: query.agentID, model: embedding.model), query: embedding.vector)
            }
            return try Self.rank(db, query: query, nearest: nearest, weights: weights, now: now)
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
    /// only) and its full-text relevance (0 without a match).
    struct Candidate {
        var id: String
        var importance: Double
        var createdAt: UnixMillis
        var lastAccessedAt: UnixMillis?
        var superseded: Bool
        var lexical: Double = 0

        static let columns = """
            memories.id, memories.importance, memories.created_at, memories.last_accessed_at, \
            memories.superseded_by IS NOT NULL
            """

        init(row: Row, lexical: Double = 0) {
            self.init(
                id: row[0], importance: row[1], createdAt: row[2], lastAccessedAt: row[3], superseded: row[4],
                lexical: lexical)
        }

        init(
            id: String, importance: Double, createdAt: UnixMillis, lastAccessedAt: UnixMillis?, superseded: Bool,
            lexical: Double
        ) {
            self.id = id
            self.importance = importance
            self.createdAt = createdAt
            self.lastAccessedAt = lastAccessedAt
            self.superseded = superseded
            self.lexical = lexical
        }
    }

    /// A ranked candidate: its score (what the answer shows) and its rank (what orders it).
    struct Ranked {
        var candidate: Candidate
        var score: Double
        var rank: Double
    }

    /// The decision of recall, the same on every backend: each candidate's relevance (its
    /// similarity fused with its full-text relevance), weighted by importance and recency; the
    /// best `topK`, with the superseded ones ranked among them left out and counted.
    static func choose(
        _ candidates: [String: Candidate], query: RecallQuery, nearest: NearestVectors?, weights: RecallWeights,
        now: UnixMillis
    ) -> (winners: [Ranked], supersededHidden: Int) {
        let ranked = candidates.values.map { candidate in
            let similarity = nearest?.similarity(of: candidate.id)
            let relevance = weights.fuse(similarity: similarity, lexical: candidate.lexical)
            let age = Double(max(0, now - (candidate.lastAccessedAt ?? candidate.createdAt)))
            let recency = pow(0.5, age / Double(weights.recencyHalfLife))
            let rank = weights.relevance * relevance + weights.importance * candidate.importance + weights.recency * recency
            return Ranked(
                candidate: candidate, score: similarity.map { min(1, max(0, Double($0))) } ?? candidate.lexical, rank: rank)
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

    /// The ranking of one recall, best first, at most `topK`. Candidates: the nearest visible
    /// vectors, the agent's memories still waiting for a vector, and full-text matches: of
    /// every word without a query vector; with one, of the query's selective words (names,
    /// ids, rare terms), as the vectors cover meaning and bm25 over a common word costs a walk
    /// of its whole doclist. Superseded memories are ranked too, so that those left out of the
    /// answer can be counted.
    static func rank(
        _ db: Database, query: RecallQuery, nearest: NearestVectors?, weights: RecallWeights, now: UnixMillis
    ) throws -> (hits: [RecallHit], supersededHidden: Int) {
        var ranking = query
        ranking.includeSuperseded = true
        let (conditions, arguments) = recallFilter(ranking, now: now)
        let predicate = conditions.joined(separator: " AND ")
        var candidates: [String: Candidate] = [:]
        func add(_ rows: [Row]) {
            for row in rows {
                let candidate = Candidate(row: row)
                if candidates[candidate.id] == nil { candidates[candidate.id] = candidate }
            }
        }
        if let nearest {
            var pool = max(query.topK * 10, 100)
            while true {
                let ids = nearest.top(pool)
                var arguments = arguments
                arguments["ids"] = Memory.tagsText(ids)
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Candidate.columns) FROM memories
                        WHERE memories.id IN (SELECT value FROM json_each(:ids)) AND \(predicate)
                        """,
                    arguments: StatementArguments(arguments))
                add(rows)
                // Widened while the filters leave too few of the nearest.
                if rows.count >= pool / 4 || ids.count < pool { break }
                pool *= 8
            }
            add(try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Candidate.columns) FROM memories
                    WHERE memories.id IN (SELECT memory_id FROM embed_queue WHERE agent_id = :agent LIMIT 1000)
                        AND \(predicate)
                    """,
                arguments: StatementArguments(arguments)))
        }
        if let words = ftsWords(query.query) {
            let agentToken = agentToken(query.agentID)
            if nearest == nil {
                try addMatches(
                    db, terms: words, agentToken: agentToken, predicate: predicate, arguments: arguments,
                    pool: max(query.topK * 20, 200), into: &candidates, weights: weights)
            } else {
                // bm25 needs each term's document count, a walk of its whole doclist: only the
                // selective terms are ranked, and their matches carry the full-text relevance.
                let selective = try selectiveTerms(db, words)
                if !selective.isEmpty {
                    try addMatches(
                        db, terms: selective, agentToken: agentToken, predicate: predicate, arguments: arguments,
                        pool: max(query.topK * 20, 200), into: &candidates, weights: weights)
                }
            }
        }
        let (winners, supersededHidden) = choose(candidates, query: query, nearest: nearest, weights: weights, now: now)
        let memories = try Memory.fetchAll(
            db, sql: "SELECT \(Memory.columns) FROM memories WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [Memory.tagsText(winners.map(\.candidate.id))])
        return (hits(winners, memories: memories), supersededHidden)
    }

    /// The agent's best `pool` full-text matches of `terms` (bm25 ranked inside FTS5).
    static func addMatches(
        _ db: Database, terms: [String], agentToken: String, predicate: String,
        arguments: [String: (any DatabaseValueConvertible)?], pool: Int, into candidates: inout [String: Candidate],
        weights: RecallWeights
    ) throws {
        var arguments = arguments
        arguments["match"] = ftsMatch(terms, agentToken: agentToken)
        arguments["pool"] = pool
        let rows = try Row.fetchAll(
            db,
            sql: """
                WITH matches AS (
                    SELECT rowid, bm25(memories_fts, 1.0, 0.0) AS rank FROM memories_fts
                    WHERE memories_fts MATCH :match ORDER BY rank LIMIT :pool)
                SELECT \(Candidate.columns), matches.rank AS rank FROM memories JOIN matches
                    ON matches.rowid = memories.rowid
                WHERE \(predicate)
                """,
            arguments: StatementArguments(arguments))
        for row in rows {
            let candidate = Candidate(row: row, lexical: weights.lexicalRelevance(bm25: row["rank"]))
            candidates[candidate.id] = candidate
        }
    }

    /// Terms in at most this many memories (all agents) are probed in full with a query vector.
    static let selectiveTermLimit = 2000

    /// The query's terms that few memories hold. Counting stops at the limit, so a common
    /// word costs a bounded walk of its doclist, not all of it.
    static func selectiveTerms(_ db: Database, _ words: [String]) throws -> [String] {
        let statement = try db.cachedStatement(
            sql: "SELECT count(*) FROM (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)")
        return try words.filter { word in
            let count = try Int.fetchOne(statement, arguments: ["{content}: \"\(word)\"", selectiveTermLimit + 1]) ?? 0
            return count > 0 && count <= selectiveTermLimit
        }
    }

    /// The WHERE conditions every recall applies.
    static func recallFilter(_ query: RecallQuery, now: UnixMillis) -> ([String], [String: (any DatabaseValueConvertible)?]) {
        var conditions = ["memories.agent_id = :agent", visibleMemory.replacingOccurrences(of: "expires_at", with: "memories.expires_at")]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["agent": query.agentID, "now": now]
        if !query.includeArchived { conditions.append("memories.archived_at IS NULL") }
        if !query.includeSuperseded { conditions.append("memories.superseded_by IS NULL") }
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

    /// The distinct words of a query, at most 32; nil when it has none.
    static func ftsWords(_ text: String) -> [String]? {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        var seen = Set<String>()
        let terms = Array(words.filter { seen.insert($0).inserted }.prefix(32))
        return terms.isEmpty ? nil : terms
    }

    /// An FTS5 query: the agent's token AND any of the terms (quoted) in the content.
    static func ftsMatch(_ terms: [String], agentToken: String) -> String {
        "{agent}: \(agentToken) AND {content}: (\(terms.map { "\"\($0)\"" }.joined(separator: " OR ")))"
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
