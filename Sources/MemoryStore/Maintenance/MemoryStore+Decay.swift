import GRDB

public enum DecayScope: Sendable, Equatable {
    /// Every archived memory.
    case archived
    /// Live memories of one type (those with a policy).
    case live(MemoryType)
}

public struct DecayCandidate: Sendable {
    public var id: String
    public var importance: Double
    public var baseImportance: Double
    public var decayRefAt: UnixMillis
    public var isPinned: Bool

    public init(id: String, importance: Double, baseImportance: Double, decayRefAt: UnixMillis, isPinned: Bool) {
        self.id = id
        self.importance = importance
        self.baseImportance = baseImportance
        self.decayRefAt = decayRefAt
        self.isPinned = isPinned
    }
}

public enum DecayDecision: Sendable, Equatable {
    case keep
    case set(Double)
    /// A live memory fell below `decay.archive_below`: it is archived (reason `decayed`).
    case archive(Double)
}

public struct DecayBatch: Sendable {
    public var examined: Int
    public var decayed: Int
    public var archived: Int
    public var next: Cursor?
}

extension MemoryStore {
    /// Applies `decide` to up to `limit` memories of `scope` in one transaction: archived ones in
    /// rowid order, live ones of a type in decay_ref_at order. The transaction commits early
    /// once `bound` says its time is up; the cursor then points past the last row done.
    public func decayBatch(
        scope: DecayScope, after cursor: Cursor, limit: Int, now: UnixMillis, dryRun: Bool, bound: BatchBound? = nil,
        decide: @escaping @Sendable (DecayCandidate) -> DecayDecision
    ) async throws -> DecayBatch {
        if case .postgres(let postgres) = engine {
            return try await postgres.decayBatch(
                scope: scope, after: cursor, limit: limit, now: now, dryRun: dryRun, bound: bound, decide: decide)
        }
        return try await transaction(dryRun: dryRun) { db in
            let timeUp = BatchBound.start(bound)
            var arguments: StatementArguments = ["key": cursor.key, "rowid": cursor.rowid, "limit": limit]
            let query: String
            switch scope {
            case .archived:
                // Every archived memory is rewritten each run: in rowid order each batch updates
                // neighbouring rows, so each table page is written about once per run instead
                // of once per batch that touches it (decay_ref_at order scatters a batch over
                // the whole table, and the WAL grows with every page a batch dirties).
                query = """
                    SELECT rowid, id, importance, base_importance, decay_ref_at, tags FROM memories NOT INDEXED
                    WHERE rowid > :rowid AND archived_at IS NOT NULL ORDER BY rowid LIMIT :limit
                    """
            case .live(let type):
                arguments += ["type": type.rawValue]
                query = """
                    SELECT rowid, id, importance, base_importance, decay_ref_at, tags FROM memories
                    INDEXED BY memories_live_by_type WHERE archived_at IS NULL AND memory_type = :type
                      AND (decay_ref_at, rowid) > (:key, :rowid)
                    ORDER BY decay_ref_at, rowid LIMIT :limit
                    """
            }
            let rows = try Row.fetchAll(db, sql: query, arguments: arguments)
            let set = try db.cachedStatement(sql: "UPDATE memories SET importance = ? WHERE rowid = ?")
            let archive = try db.cachedStatement(
                sql: """
                    UPDATE memories SET importance = :v, base_importance = :v, decay_ref_at = :now,
                        archived_at = :now, archived_reason = 'decayed'
                    WHERE rowid = :rowid
                    """)
            var decayed = 0
            var archived = 0
            var done = 0
            for row in rows {
                if done > 0, timeUp() { break }
                done += 1
                let tags: String = row["tags"]
                let candidate = DecayCandidate(
                    id: row["id"], importance: row["importance"], baseImportance: row["base_importance"],
                    decayRefAt: row["decay_ref_at"], isPinned: Self.hasPinnedTag(tags))
                let rowid: Int64 = row["rowid"]
                switch decide(candidate) {
                case .keep:
                    break
                case .set(let value):
                    try set.execute(arguments: [value, rowid])
                    decayed += 1
                case .archive(let value):
                    try archive.execute(arguments: ["v": value, "now": now, "rowid": rowid])
                    decayed += 1
                    archived += 1
                }
            }
            let last = rows.prefix(done).last
            let next = done < rows.count || rows.count == limit
                ? last.map { Cursor(key: $0["decay_ref_at"], rowid: $0["rowid"]) } : nil
            return DecayBatch(examined: done, decayed: decayed, archived: archived, next: next)
        }
    }

    static func hasPinnedTag(_ tagsText: String) -> Bool {
        // Cheap pre-check; the JSON parse only runs for the few rows that may carry the tag.
        guard tagsText.contains("\"\(Memory.pinnedTag)\"") else { return false }
        guard case .array(let values) = try? JSONValue.parse(tagsText) else { return false }
        return values.contains(.string(Memory.pinnedTag))
    }
}
