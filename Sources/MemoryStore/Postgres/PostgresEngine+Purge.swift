import PostgresNIO

extension PostgresEngine {
    func dueForPurge(_ target: PurgeTarget, after cursor: Cursor, limit: Int) async throws -> PurgePass {
        try await autocommit { connection in
            let (column, _, bound) = target.index
            var rows: [(seq: Int64, key: Int64)] = []
            for try await row in try await connection.query(
                """
                SELECT seq, \(unescaped: column) FROM memories
                WHERE \(unescaped: column) IS NOT NULL AND \(unescaped: column) <= \(bound)
                  AND (\(unescaped: column), seq) > (\(cursor.key), \(cursor.rowid))
                ORDER BY \(unescaped: column), seq LIMIT \(limit)
                """, logger: self.logger
            ).decode((Int64, Int64).self) {
                rows.append(row)
            }
            let next = rows.count == limit ? rows.last.map { Cursor(key: $0.key, rowid: $0.seq) } : nil
            return PurgePass(rowids: rows.map(\.seq).sorted(), next: next)
        }
    }

    /// Deletes the still-due memories of `rowids`, a chunk per set-based statement, until the
    /// bound says the transaction's time is up. The rows come back only for an export.
    func purgeRows(
        _ rowids: ArraySlice<Int64>, target: PurgeTarget, dryRun: Bool, bound: BatchBound?,
        beforeCommit: (@Sendable ([Memory]) throws -> Void)?
    ) async throws -> PurgeBatch {
        try await transaction(dryRun: dryRun) { connection in
            let timeUp = BatchBound.start(bound)
            let (column, _, due) = target.index
            let returning = beforeCommit == nil ? "seq" : Memory.columns
            var deleted: [Memory] = []
            var deletedCount = 0
            var handled = 0
            while handled < rowids.count {
                if handled > 0, timeUp() { break }
                let chunk = Array(rowids.dropFirst(handled).prefix(Self.setChunk))
                let rows = try await connection.query(
                    """
                    DELETE FROM memories
                    WHERE seq = ANY(\(chunk)) AND \(unescaped: column) IS NOT NULL AND \(unescaped: column) <= \(due)
                    RETURNING \(unescaped: returning)
                    """, logger: self.logger)
                if beforeCommit == nil {
                    for try await _ in rows { deletedCount += 1 }
                } else {
                    deleted += try await rows.records(Memory.self)
                    deletedCount = deleted.count
                }
                handled += chunk.count
            }
            if let beforeCommit { try beforeCommit(deleted) }
            return PurgeBatch(deleted: deleted, deletedCount: deletedCount, handled: handled)
        }
    }

    func prune(_ table: PrunedTable, before cutoff: UnixMillis, limit: Int, dryRun: Bool) async throws -> Int {
        if dryRun {
            return try await autocommit { connection in
                Int(
                    try await connection.query(
                        """
                        SELECT count(*) FROM \(unescaped: table.name) WHERE \(unescaped: table.time) < \(cutoff) \(unescaped: table.keep)
                        """, logger: self.logger
                    ).scalar(Int64.self) ?? 0)
            }
        }
        return try await transaction { connection in
            var count = 0
            for try await _ in try await connection.query(
                """
                DELETE FROM \(unescaped: table.name) WHERE \(unescaped: table.key) IN
                    (SELECT \(unescaped: table.key) FROM \(unescaped: table.name)
                     WHERE \(unescaped: table.time) < \(cutoff) \(unescaped: table.keep)
                     ORDER BY \(unescaped: table.time) LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """, logger: self.logger)
            {
                count += 1
            }
            return count
        }
    }

    /// What must hold between the tables whatever was killed when: every queued or embedded
    /// memory exists, and none is both waiting for a vector and holding one.
    func integrityProblems() async throws -> [String] {
        try await autocommit { connection in
            let checks: [(String, PostgresQuery)] = [
                ("embed_queue rows without their memory",
                 "SELECT count(*) FROM embed_queue q WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = q.memory_id)"),
                ("memory_vectors rows without their memory",
                 "SELECT count(*) FROM memory_vectors v WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = v.memory_id)"),
                ("memories both queued and embedded",
                 "SELECT count(*) FROM embed_queue q JOIN memory_vectors v ON v.memory_id = q.memory_id"),
            ]
            var problems: [String] = []
            for (name, query) in checks {
                let count = try await connection.query(query, logger: self.logger).scalar(Int64.self) ?? 0
                if count > 0 { problems.append("\(name): \(count)") }
            }
            return problems
        }
    }
}
