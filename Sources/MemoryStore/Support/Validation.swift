/// The input rules of DESIGN.md, in one place for the store, the importer and the HTTP API.
public enum Validation {
    public static let maxContentBytes = 100_000
    public static let maxTags = 32
    /// Characters (Unicode scalars), as JSON Schema's maxLength counts them.
    public static let maxTagCharacters = 256

    public static func agentID(_ value: String, field: String = "agent_id") throws(StoreError) {
        let bytes = Array(value.utf8)
        func allowed(_ b: UInt8, first: Bool) -> Bool {
            let alnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
            return first ? alnum : alnum || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ":") || b == UInt8(ascii: "-")
        }
        guard !bytes.isEmpty, bytes.count <= 128, allowed(bytes[0], first: true),
            bytes.dropFirst().allSatisfy({ allowed($0, first: false) })
        else {
            throw .invalidArgument(field: field, reason: "must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
        }
    }

    /// Session and memory ids share the agent-id alphabet: safe in paths, logs and journald fields.
    public static func recordID(_ value: String, field: String = "id") throws(StoreError) {
        try agentID(value, field: field)
    }

    public static let maxSupersedes = 100

    /// The ids a new memory supersedes: valid ids, at most `maxSupersedes`, no repeats. (Its own
    /// id is refused in the store, as a memory that did not exist before it: a 404.)
    public static func supersedes(_ ids: [String]) throws(StoreError) {
        guard ids.count <= maxSupersedes else {
            throw .invalidArgument(field: "supersedes", reason: "must list at most \(maxSupersedes) memory ids")
        }
        for id in ids { try recordID(id, field: "supersedes") }
        guard Set(ids).count == ids.count else {
            throw .invalidArgument(field: "supersedes", reason: "must not list a memory id twice")
        }
    }

    public static func importance(_ value: Double, field: String = "importance") throws(StoreError) {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw .invalidArgument(field: field, reason: "must be between 0 and 1")
        }
    }

    public static func content(_ value: String) throws(StoreError) {
        guard !value.isEmpty else { throw .invalidArgument(field: "content", reason: "must not be empty") }
        guard value.utf8.count <= maxContentBytes else {
            throw .invalidArgument(field: "content", reason: "must be at most \(maxContentBytes) bytes")
        }
    }

    public static func tags(_ value: [String], field: String = "tags") throws(StoreError) {
        guard value.count <= maxTags else {
            throw .invalidArgument(field: field, reason: "must hold at most \(maxTags) tags")
        }
        for tag in value where tag.isEmpty || tag.unicodeScalars.count > maxTagCharacters {
            throw .invalidArgument(field: field, reason: "must be non-empty strings of at most \(maxTagCharacters) characters")
        }
    }

    public static func memoryType(_ value: String) throws(StoreError) -> MemoryType {
        guard let type = MemoryType(rawValue: value) else {
            throw .invalidArgument(
                field: "memory_type",
                reason: "must be one of \(MemoryType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    /// The longest duration accepted from outside (100 years): every deadline computed from one
    /// stays far inside Int64 milliseconds.
    public static let maxDurationSeconds: Int64 = 3_155_760_000

    public static func idleTimeout(_ seconds: Int64, field: String = "idle_timeout_secs") throws(StoreError) {
        guard seconds >= 0, seconds <= maxDurationSeconds else {
            throw .invalidArgument(
                field: field, reason: "must be 0 (never) or a number of seconds up to \(maxDurationSeconds) (100 years)")
        }
    }

    public static func ttl(_ seconds: Int64, field: String = "ttl_seconds") throws(StoreError) {
        guard seconds > 0, seconds <= maxDurationSeconds else {
            throw .invalidArgument(field: field, reason: "must be a number of seconds from 1 to \(maxDurationSeconds) (100 years)")
        }
    }

    public static func metadata(_ value: JSONValue) throws(StoreError) {
        guard value.objectValue != nil else {
            throw .invalidArgument(field: "metadata", reason: "must be a JSON object")
        }
    }
}
