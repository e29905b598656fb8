import PostgresNIO

/// A statement built from pieces: `$n` placeholders are numbered as values are bound, so a
/// piece shared by several statements (recall's filter) is a function that appends to one,
/// rather than SQL passed around as a string with its values apart.
struct PostgresStatement: Sendable {
    private(set) var sql: String
    private(set) var binds = PostgresBindings()

    init(_ sql: String = "") {
        self.sql = sql
    }

    /// Appends SQL text (constants of this module only, never input).
    mutating func append(_ text: String) {
        sql += text
    }

    /// Appends a placeholder for `value`.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) {
        binds.append(value)
        sql += "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
