import PostgresNIO

extension PostgresEngine {
    /// `MemoryStore.decayBatch` on PostgreSQL: the rows in keyset order, decided one by one by
    /// `decide`, then written by two set-based statements (new importances, archivals) instead
    /// of a round trip per row.
    func decayBatch(
        scope: DecayScope, after cursor: Cursor, limit: Int, now: UnixMillis, dryRun: Bool, bound: BatchBound?,
        decide: @Sendable (DecayCandidate) -> DecayDecision
    ) async throws -> DecayBatch {
        try await transaction(dryRun: dryRun) { connection in
            let timeUp = BatchBound.start(bound)
            let rows: PostgresRowSequence
            switch scope {
            case .archived:
                rows = try await connection.query(
                    """
                    SELECT seq, id, importance, base_importance, decay_ref_at, tags FROM memories
                    WHERE archived_at IS NOT NULL AND (decay_ref_at, seq) > (\(cursor.key), \(cursor.rowid))
                    ORDER BY decay_ref_at, seq LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                    """, logger: self.logger)
            case .live(let type):
                rows = try await connection.query(
                    """
                    SELECT seq, id, importance, base_importance, decay_ref_at, tags FROM memories
                    WHERE archived_at IS NULL AND memory_type = \(type.rawValue)
                      AND (decay_ref_at, seq) > (\(cursor.key), \(cursor.rowid))
                    ORDER BY decay_ref_at, seq LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                    """, logger: self.logger)
            }
            var fetched = 0
            var done = 0
            var last: Cursor?
            var setRows: [Int64] = []
            var setValues: [Double] = []
            var archiveRows: [Int64] = []
            var archiveValues: [Double] = []
            for try await (seq, id, importance, base, decayRefAt, tags) in rows.decode(
                (Int64, String, Double, Double, Int64, String).self)
            {
                fetched += 1
                if done > 0, timeUp() { continue }
                done += 1
                last = Cursor(key: decayRefAt, rowid: seq)
                let candidate = DecayCandidate(
                    id: id, importance: importance, baseImportance: base, decayRefAt: decayRefAt,
                    isPinned: MemoryStore.hasPinnedTag(tags))
                switch decide(candidate) {
                case .keep:
                    break
                case .set(let value):
                    setRows.append(seq)
                    setValues.append(value)
                case .archive(let value):
                    archiveRows.append(seq)
                    archiveValues.append(value)
                }
            }
            if !setRows.isEmpty {
                try await connection.query(
                    """
                    UPDATE memories SET importance = change.value
                    FROM unnest(\(setRows)::bigint[], \(setValues)::double precision[]) AS change(seq, value)
                    WHERE memories.seq = change.seq
                    """, logger: self.logger)
            }
            if !archiveRows.isEmpty {
                try await connection.query(
                    """
                    UPDATE memories SET importance = change.value, base_importance = change.value,
                        decay_ref_at = \(now), archived_at = \(now), archived_reason = 'decayed'
                    FROM unnest(\(archiveRows)::bigint[], \(archiveValues)::double precision[]) AS change(seq, value)
                    WHERE memories.seq = change.seq
                    """, logger: self.logger)
            }
            let next = done < fetched || fetched == limit ? last : nil
            return DecayBatch(
                examined: done, decayed: setRows.count + archiveRows.count, archived: archiveRows.count, next: next)
        }
    }
}
