import GRDB

/// An ended, unconsolidated session as the consolidation planner sees it.
public struct SessionRef: Sendable, Equatable {
    public var id: String
    public var startedAt: UnixMillis
    public var endedAt: UnixMillis
    /// Characters of its live memories; counted only for the size trigger.
    public var liveCharacters: Int

    public init(id: String, startedAt: UnixMillis, endedAt: UnixMillis, liveCharacters: Int = 0) {
        self.id = id
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.liveCharacters = liveCharacters
    }
}

/// One consolidation, decided outside the store, written in one transaction.
public struct ConsolidationCommit: Sendable {
    public var consolidationID: String
    public var agentID: String
    public var sessionIDs: [String]
    /// The ids of the sources as they were read; the commit is refused if they changed since.
    public var sourceIDs: [String]
    /// One per topic; none when the sessions hold no live memory (they are only marked
    /// consolidated) or when every source fell below the floor or was superseded.
    public var summaries: [Memory]
    /// Every source with its fate.
    public var sources: [ConsolidationSource]

    /// The sources that go: every one but the kept facts, which stay live memories (their own
    /// text, date, session and vector), so that each stays recallable on its own.
    public var archivedIDs: [String] { sources.filter { $0.fate != .kept }.map(\.sourceMemoryID) }

    public init(
        consolidationID: String, agentID: String, sessionIDs: [String], sourceIDs: [String], summaries: [Memory],
        sources: [ConsolidationSource]
    ) {
        self.consolidationID = consolidationID
        self.agentID = agentID
        self.sessionIDs = sessionIDs
        self.sourceIDs = sourceIDs
        self.summaries = summaries
        self.sources = sources
    }
}

public struct RestoreResult: Sendable, Equatable {
    public var consolidationID: String
    public var summaryIDs: [String]
    public var sessionIDs: [String]
    public var memoryIDs: [String]
}

/// What a consolidation did, as `explain` shows it: every source with its fate and text.
public struct ConsolidationExplanation: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var source: ConsolidationSource
        /// The source's text; nil once it has been purged.
        public var content: String?
        public var importance: Double?
    }

    public var consolidationID: String
    /// The summaries of the consolidation, in id order.
    public var summaryIDs: [String]
    /// What was asked about: the whole consolidation, one summary's sources, or one source.
    public var entries: [Entry]
}

extension MemoryStore {
    /// Agents that have ended, unconsolidated sessions, in id order, paged.
    public func agentsWithUnconsolidatedSessions(after agentID: String?, limit: Int) async throws -> [String] {
        if case .postgres(let postgres) = engine {
            return try await postgres.agentsWithUnconsolidatedSessions(after: agentID, limit: limit)
        }
        return try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT agent_id FROM sessions INDEXED BY sessions_unconsolidated
                    WHERE ended_at IS NOT NULL AND consolidated_at IS NULL AND agent_id > ?
                    ORDER BY agent_id LIMIT ?
                    """,
                arguments: [agentID ?? "", limit])
        }
    }

    /// Each agent's ended, unconsolidated sessions, oldest first, read in one query for a page of
    /// agents; with `liveCharacters`, each session with the characters of its live memories,
    /// and each agent's live characters in all its unconsolidated sessions (open ones included).
    public func unconsolidatedSessions(agentIDs: [String], liveCharacters: Bool = false) async throws
        -> [String: (sessions: [SessionRef], liveCharacters: Int)]
    {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.unconsolidatedSessions(agentIDs: agentIDs, liveCharacters: liveCharacters, now: now)
        }
        let agents = Memory.tagsText(agentIDs)
        return try await read { db in
            var result: [String: (sessions: [SessionRef], liveCharacters: Int)] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT agent_id, id, started_at, ended_at FROM sessions INDEXED BY sessions_unconsolidated
                    WHERE agent_id IN (SELECT value FROM json_each(?)) AND ended_at IS NOT NULL
                      AND consolidated_at IS NULL
                    ORDER BY agent_id, started_at, id
                    """,
                arguments: [agents])
            while let row = try rows.next() {
                result[row[0], default: ([], 0)].sessions.append(SessionRef(id: row[1], startedAt: row[2], endedAt: row[3]))
            }
            guard liveCharacters else { return result }
            let perSession = try Row.fetchAll(
                db,
                sql: """
                    SELECT sessions.agent_id, memories.session_id, sum(length(memories.content)) FROM sessions
                    JOIN memories ON memories.session_id = sessions.id
                    WHERE sessions.agent_id IN (SELECT value FROM json_each(:agents)) AND sessions.consolidated_at IS NULL
                      AND memories.archived_at IS NULL AND \(visibleMemory)
                    GROUP BY memories.session_id
                    """,
                arguments: ["agents": agents, "now": now])
            var characters: [String: Int] = [:]
            for row in perSession {
                characters[row[1]] = row[2]
                result[row[0], default: ([], 0)].liveCharacters += row[2] as Int
            }
            return Self.attach(characters, to: result)
        }
    }

    /// Each session with the characters of its live memories (`characters`, by session id).
    static func attach(
        _ characters: [String: Int], to result: [String: (sessions: [SessionRef], liveCharacters: Int)]
    ) -> [String: (sessions: [SessionRef], liveCharacters: Int)] {
        result.mapValues { entry in
            (entry.sessions.map { session in
                var session = session
                session.liveCharacters = characters[session.id] ?? 0
                return session
            }, entry.liveCharacters)
        }
    }

    /// The live (visible, not archived) memories of the given sessions, oldest first, with
    /// their vectors of `model`.
    public func consolidationFacts(sessionIDs: [String], model: EmbeddingModel?, now: UnixMillis) async throws
        -> [ConsolidationFact]
    {
        if case .postgres(let postgres) = engine {
            return try await postgres.consolidationFacts(sessionIDs: sessionIDs, model: model, now: now)
        }
        return try await read { db in
            try Self.fetchFacts(
                db, model: model, now: now,
                where: "memories.session_id IN (SELECT value FROM json_each(:ids))",
                arguments: ["ids": Memory.tagsText(sessionIDs)])
        }
    }

    /// The given agents' memories created after `since` that may state a change (they hold one
    /// of `words`): what can supersede a batch's facts from outside the batch. Archived ones
    /// count too: a change stays true once consolidated, and the answer does not depend on which
    /// of the agent's other groups a run has already written. Summaries are left out: they
    /// restate older facts at the time of their consolidation.
    public func changeFacts(agentIDs: [String], words: [String], since: UnixMillis, now: UnixMillis) async throws
        -> [ConsolidationFact]
    {
        guard !agentIDs.isEmpty, !words.isEmpty else { return [] }
        if case .postgres(let postgres) = engine {
            return try await postgres.changeFacts(agentIDs: agentIDs, words: words, since: since, now: now)
        }
        let match = Self.changeMatch(agentIDs: agentIDs, words: words)
        return try await read { db in
            try Self.fetchFacts(
                db, model: nil, now: now, liveOnly: false,
                where: """
                    memories.rowid IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH :match)
                      AND memories.created_at > :since
                      AND NOT EXISTS (SELECT 1 FROM consolidation_sources WHERE summary_id = memories.id)
                    """,
                arguments: ["match": match, "since": since])
        }
    }

    /// The full-text query for the memories of `agentIDs` that hold any of `words`: how the
    /// statements of a change and the facts it retires are found.
    static func changeMatch(agentIDs: [String], words: [String]) -> String {
        let agents = agentIDs.map(agentToken).joined(separator: " OR ")
        return "{agent}: (\(agents)) AND {content}: (\(words.map { "\"\($0)\"" }.joined(separator: " OR ")))"
    }

    static func fetchFacts(
        _ db: Database, model: EmbeddingModel?, now: UnixMillis, liveOnly: Bool = true, where condition: String,
        arguments: [String: (any DatabaseValueConvertible)?]
    ) throws -> [ConsolidationFact] {
        var arguments = arguments
        arguments["now"] = now
        // Without a model the join matches nothing (updateValue: a nil assignment would drop the key).
        arguments.updateValue(model?.name, forKey: "model")
        arguments.updateValue(model?.dimensions, forKey: "dimensions")
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(ConsolidationFact.columns), memory_vectors.vector FROM memories
                LEFT JOIN memory_vectors ON memory_vectors.memory_id = memories.id
                    AND memory_vectors.model = :model AND memory_vectors.dimensions = :dimensions
                WHERE \(condition) \(liveOnly ? "AND memories.archived_at IS NULL" : "")
                  AND \(visibleMemory.replacingOccurrences(of: "expires_at", with: "memories.expires_at"))
                ORDER BY memories.created_at, memories.id
                """,
            arguments: StatementArguments(arguments))
        var facts: [ConsolidationFact] = []
        while let row = try rows.next() {
            var vector: [Float]?
            try row.withUnsafeData(atIndex: 9) { data in
                data?.withUnsafeBytes { bytes in
                    var floats: [Float] = []
                    VectorCoding.append(blob: bytes, to: &floats)
                    vector = floats
                }
            }
            facts.append(try ConsolidationFact(row: row, vector: vector))
        }
        return facts
    }

    /// Writes consolidations in one transaction, each all or nothing, set-based: summaries,
    /// every source's fate, archived sources (all but the kept facts) and consolidated sessions.
    /// One whose sessions or memories another writer changed since they were read writes nothing
    /// (false in the answer, in order); the next run picks it up again.
    /// Writes consolidations in one transaction, in order, until `bound` says its time is up
    /// (at least one is written). Returns, for each one attempted, whether it was written; the
    /// rest (past the returned count) were not attempted and go in the next transaction.
    public func commitConsolidations(
        _ commits: [ConsolidationCommit], now: UnixMillis, dryRun: Bool, bound: BatchBound? = nil
    ) async throws -> [Bool] {
        if case .postgres(let postgres) = engine {
            return try await postgres.commitConsolidations(commits, now: now, dryRun: dryRun, bound: bound)
        }
        return try await transaction(dryRun: dryRun) { db in
            let timeUp = BatchBound.start(bound)
            var written: [Bool] = []
            for commit in commits {
                if !written.isEmpty, timeUp() { break }
                written.append(try Self.write(commit, db, now: now))
            }
            return written
        }
    }

    static func write(_ commit: ConsolidationCommit, _ db: Database, now: UnixMillis) throws -> Bool {
        let sessionIDs = Memory.tagsText(commit.sessionIDs)
        let pending = try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT count(*) FROM sessions WHERE id IN (SELECT value FROM json_each(?))
                      AND ended_at IS NOT NULL AND consolidated_at IS NULL
                    """),
            arguments: [sessionIDs]) ?? 0
        let current = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id FROM memories WHERE session_id IN (SELECT value FROM json_each(:ids))
                      AND archived_at IS NULL AND \(visibleMemory) ORDER BY created_at, id
                    """),
            arguments: ["ids": sessionIDs, "now": now])
        guard pending == commit.sessionIDs.count, current == commit.sourceIDs else { return false }

        for summary in commit.summaries { try summary.insert(db) }
        let insertSource = try db.cachedStatement(
            sql: """
                INSERT INTO consolidation_sources
                    (source_memory_id, consolidation_id, summary_id, source_session_id, fate, fate_ref)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        for source in commit.sources {
            try insertSource.execute(arguments: [
                source.sourceMemoryID, source.consolidationID, source.summaryID, source.sourceSessionID,
                source.fate.rawValue, source.fateRef,
            ])
        }
        try db.cachedStatement(
            sql: """
                UPDATE memories SET archived_at = :now, archived_reason = 'consolidated',
                    base_importance = importance, decay_ref_at = :now
                WHERE id IN (SELECT value FROM json_each(:ids)) AND archived_at IS NULL
                """
        ).execute(arguments: ["now": now, "ids": Memory.tagsText(commit.archivedIDs)])
        try db.cachedStatement(
            sql: """
                UPDATE sessions SET consolidated_at = :now, consolidated_into = :consolidation
                WHERE id IN (SELECT value FROM json_each(:ids))
                """
        ).execute(arguments: ["now": now, "consolidation": commit.consolidationID, "ids": sessionIDs])
        return true
    }

    /// The consolidations of `agentID` (every agent's with nil), oldest first, with their agent:
    /// what `memkeepd reconsolidate` redoes.
    public func consolidations(agentID: String?) async throws -> [(id: String, agentID: String)] {
        if let agentID { try Validation.agentID(agentID) }
        if case .postgres(let postgres) = engine { return try await postgres.consolidations(agentID: agentID) }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT consolidated_into, min(agent_id) FROM sessions
                    WHERE consolidated_into IS NOT NULL AND (:agent IS NULL OR agent_id = :agent)
                    GROUP BY consolidated_into ORDER BY consolidated_into
                    """,
                arguments: ["agent": agentID]
            ).map { ($0[0], $0[1]) }
        }
    }

    /// The consolidation an id names: a consolidation id itself, or one of its summaries.
    static func consolidationID(_ db: Database, naming id: String) throws -> String {
        if try ConsolidationSource.all().of(consolidation: id).isEmpty(db) == false { return id }
        if let source = try ConsolidationSource.all().into(summary: id).fetchOne(db) { return source.consolidationID }
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM memories WHERE id = ?", arguments: [id]) == true else {
            throw StoreError.consolidationNotFound(id)
        }
        throw StoreError.notRestorable(id: id, reason: "it is not a consolidation summary")
    }

    /// Undoes a whole consolidation, named by its id or by any of its summaries: the sources
    /// come back live with the importance they had when archived, the sessions become
    /// unconsolidated, the summaries and the fates go.
    public func restore(id: String) async throws -> RestoreResult {
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.restore(id: id, now: now) }
        return try await transaction { db in
            let consolidationID = try Self.consolidationID(db, naming: id)
            let sources = try ConsolidationSource.all().of(consolidation: consolidationID)
                .order(Column("source_memory_id")).fetchAll(db)
            let sourceIDs = Memory.tagsText(sources.map(\.sourceMemoryID))
            let present = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM memories WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [sourceIDs]) ?? 0
            guard present == sources.count else {
                throw StoreError.notRestorable(
                    id: id, reason: "\(sources.count - present) of its \(sources.count) sources were already purged")
            }
            try db.execute(
                sql: """
                    UPDATE memories SET archived_at = NULL, archived_reason = NULL, importance = base_importance,
                        decay_ref_at = :now
                    WHERE id IN (SELECT value FROM json_each(:ids)) AND archived_reason = 'consolidated'
                    """,
                arguments: ["now": now, "ids": sourceIDs])
            let sessionIDs = try String.fetchAll(
                db, sql: "SELECT id FROM sessions WHERE consolidated_into = ? ORDER BY id", arguments: [consolidationID])
            try db.execute(
                sql: "UPDATE sessions SET consolidated_at = NULL, consolidated_into = NULL WHERE consolidated_into = ?",
                arguments: [consolidationID])
            let summaryIDs = Array(Set(sources.compactMap(\.summaryID))).sorted()
            try ConsolidationSource.all().of(consolidation: consolidationID).deleteAll(db)
            try db.execute(
                sql: "DELETE FROM memories WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [Memory.tagsText(summaryIDs)])
            return RestoreResult(
                consolidationID: consolidationID, summaryIDs: summaryIDs, sessionIDs: sessionIDs,
                memoryIDs: sources.map(\.sourceMemoryID))
        }
    }

    /// Why the sources of a consolidation went where they went. `id` names a consolidation (all
    /// its sources), a summary (the sources its text came from, and those of its consolidation
    /// that went into no summary), or a source memory (its own fate).
    public func explain(id: String) async throws -> ConsolidationExplanation {
        if case .postgres(let postgres) = engine { return try await postgres.explain(id: id) }
        return try await read { db in
            let sources: [ConsolidationSource]
            let consolidationID: String
            if let source = try ConsolidationSource.fetchOne(db, key: id) {
                consolidationID = source.consolidationID
                sources = [source]
            } else {
                consolidationID = try Self.consolidationID(db, naming: id)
                let all = try ConsolidationSource.all().of(consolidation: consolidationID).fetchAll(db)
                sources = consolidationID == id ? all : all.filter { $0.summaryID == id || $0.summaryID == nil }
            }
            let memories = try Row.fetchAll(
                db, sql: "SELECT id, content, importance FROM memories WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [Memory.tagsText(sources.map(\.sourceMemoryID))])
            let byID = Dictionary(
                uniqueKeysWithValues: memories.map { ($0[0] as String, (content: $0[1] as String, importance: $0[2] as Double)) })
            let summaryIDs = try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT summary_id FROM consolidation_sources
                    WHERE consolidation_id = ? AND summary_id IS NOT NULL ORDER BY summary_id
                    """,
                arguments: [consolidationID])
            return ConsolidationExplanation(
                consolidationID: consolidationID, summaryIDs: summaryIDs,
                entries: Self.explanationEntries(sources) { byID[$0] })
        }
    }

    /// The entries of an explanation: sources by summary (those in none last), then by id,
    /// each with its text and importance while the memory exists.
    static func explanationEntries(
        _ sources: [ConsolidationSource], memory: (String) -> (content: String, importance: Double)?
    ) -> [ConsolidationExplanation.Entry] {
        sources.sorted { ($0.summaryID ?? "~", $0.sourceMemoryID) < ($1.summaryID ?? "~", $1.sourceMemoryID) }
            .map { source in
                let found = memory(source.sourceMemoryID)
                return ConsolidationExplanation.Entry(source: source, content: found?.content, importance: found?.importance)
            }
    }
}

extension ConsolidationExplanation {
    /// How many of the entries have each fate.
    public var fateCounts: [SourceFate: Int] { entries.reduce(into: [:]) { $0[$1.source.fate, default: 0] += 1 } }

    /// The wire form shared by `GET /v1/memory/{id}/sources` and `memkeepd explain --json`.
    public var json: JSONValue {
        func entry(_ entry: Entry) -> JSONValue {
            .object([
                "memory_id": .string(entry.source.sourceMemoryID),
                "session_id": entry.source.sourceSessionID.map(JSONValue.string) ?? .null,
                "summary_id": entry.source.summaryID.map(JSONValue.string) ?? .null,
                "fate": .string(entry.source.fate.rawValue),
                "fate_ref": entry.source.fateRef.map(JSONValue.string) ?? .null,
                "content": entry.content.map(JSONValue.string) ?? .null,
                "importance": entry.importance.map(JSONValue.number) ?? .null,
            ])
        }
        let counts = Dictionary(uniqueKeysWithValues: fateCounts.map { ($0.key.rawValue, $0.value) })
        return .object([
            "consolidation_id": .string(consolidationID),
            "summary_ids": .array(summaryIDs.map(JSONValue.string)),
            "sources": .array(entries.map(entry)),
            "fates": .object(counts.mapValues { .number(Double($0)) }),
        ])
    }
}
