import PostgresNIO

/// A record that `COPY … FROM STDIN` can carry, as its columns in `columns` order.
protocol PostgresCopyRecord: Sendable {
    static var columns: String { get }
    func copyFields(into row: inout PostgresCopyRow)
}

/// One row of COPY's text format: fields separated by tabs, `\N` for NULL, and the
/// characters the format gives a meaning escaped.
struct PostgresCopyRow {
    private(set) var text = ""
    private var fields = 0

    mutating func append(_ value: String?) {
        if fields > 0 { text += "\t" }
        fields += 1
        guard let value else {
            text += "\\N"
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": text += "\\\\"
            case "\t": text += "\\t"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            default: text.unicodeScalars.append(scalar)
            }
        }
    }

    mutating func append(_ value: Int64?) { append(value.map(String.init)) }

    /// The shortest text that reads back as the same double.
    mutating func append(_ value: Double) { append(value.description) }
}

extension PostgresEngine {
    /// Inserts `records` into `table` with one COPY and one statement, and returns the ids
    /// inserted: an id already in the store is skipped (for the caller to name) instead of
    /// failing the COPY with the server's unique violation.
    func insertCopied<Record: PostgresCopyRecord>(
        _ records: [Record], into table: String, on connection: PostgresConnection
    ) async throws -> Set<String> {
        guard !records.isEmpty else { return [] }
        let staging = try await stage(records, like: table, on: connection)
        var inserted = Set<String>()
        for try await id in try await connection.query(
            """
            INSERT INTO \(unescaped: table) (\(unescaped: Record.columns))
            SELECT \(unescaped: Record.columns) FROM \(unescaped: staging)
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger
        ).decode(String.self) {
            inserted.insert(id)
        }
        return inserted
    }

    /// Copies `records` into a temporary table of `table`'s columns (without its constraints,
    /// dropped at commit), once per table and transaction, and returns its name.
    func stage<Record: PostgresCopyRecord>(
        _ records: [Record], like table: String, on connection: PostgresConnection
    ) async throws -> String {
        let staging = "staged_\(table)"
        try await connection.query(
            """
            CREATE TEMPORARY TABLE \(unescaped: staging) ON COMMIT DROP AS
            SELECT \(unescaped: Record.columns) FROM \(unescaped: table) WITH NO DATA
            """, logger: logger)
        let columns = Record.columns.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }
        try await connection.copyFrom(table: staging, columns: columns, logger: logger) { writer in
            var buffer = ByteBuffer()
            for record in records {
                var row = PostgresCopyRow()
                record.copyFields(into: &row)
                buffer.writeString(row.text)
                buffer.writeString("\n")
                if buffer.readableBytes >= 1 << 16 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        return staging
    }
}

extension Session: PostgresCopyRecord {
    func copyFields(into row: inout PostgresCopyRow) {
        row.append(id)
        row.append(agentID)
        row.append(startedAt)
        row.append(lastActivityAt)
        row.append(idleTimeoutSeconds)
        row.append(idleDeadlineAt)
        row.append(endedAt)
        row.append(endedReason?.rawValue)
        row.append(idleSince)
        row.append(summary)
        row.append(metadata.jsonText())
        row.append(consolidatedAt)
        row.append(consolidatedInto)
    }
}

extension Memory: PostgresCopyRecord {
    func copyFields(into row: inout PostgresCopyRow) {
        row.append(id)
        row.append(agentID)
        row.append(sessionID)
        row.append(content)
        row.append(memoryType.rawValue)
        row.append(importance)
        row.append(baseImportance)
        row.append(decayRefAt)
        row.append(Memory.tagsText(tags))
        row.append(metadata.jsonText())
        row.append(createdAt)
        row.append(updatedAt)
        row.append(lastAccessedAt)
        row.append(accessCount)
        row.append(expiresAt)
        row.append(archivedAt)
        row.append(archivedReason?.rawValue)
        row.append(supersededBy)
    }
}

extension ConsolidationSource: PostgresCopyRecord {
    static let columns = "source_memory_id, consolidation_id, summary_id, source_session_id, fate, fate_ref"

    func copyFields(into row: inout PostgresCopyRow) {
        row.append(sourceMemoryID)
        row.append(consolidationID)
        row.append(summaryID)
        row.append(sourceSessionID)
        row.append(fate.rawValue)
        row.append(fateRef)
    }
}
