import Foundation

/// A JSON object read field by field, by one set of rules for every reader of JSON from
/// outside (HTTP and MCP bodies, import lines): every wrong type or value is a `FieldError`
/// naming the field, and nothing is guessed.
public struct JSONFields: Sendable {
    public let fields: [String: JSONValue]
    /// Names the object in errors when it is nested (`consolidation.`).
    public var prefix: String

    public init(_ fields: [String: JSONValue], prefix: String = "") {
        self.fields = fields
        self.prefix = prefix
    }

    func invalid(_ name: String, _ reason: String) -> FieldError {
        FieldError(field: prefix + name, reason: reason)
    }

    /// Fields this route does not read, for the answer's `warnings`.
    public func unknownFields(known: Set<String>) -> [String] {
        fields.keys.filter { !known.contains($0) }.sorted().map { "unknown field '\($0)' ignored" }
    }

    public func isPresent(_ name: String) -> Bool {
        guard let value = fields[name] else { return false }
        return value != .null
    }

    public func string(_ name: String) throws(FieldError) -> String {
        guard let value = try optionalString(name) else { throw invalid(name, "is required") }
        return value
    }

    public func optionalString(_ name: String) throws(FieldError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw invalid(name, "must be a string")
        }
    }

    public func optionalDouble(_ name: String) throws(FieldError) -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        default: throw invalid(name, "must be a number")
        }
    }

    public func optionalInt(_ name: String) throws(FieldError) -> Int64? {
        guard let value = try optionalDouble(name) else { return nil }
        // Range checks belong to each field's own rule, which names the range.
        guard let integer = Int64(exactly: value) else { throw invalid(name, "must be an integer") }
        return integer
    }

    public func optionalBool(_ name: String) throws(FieldError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw invalid(name, "must be true or false")
        }
    }

    public func optionalStrings(_ name: String) throws(FieldError) -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?:
            var strings: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw invalid(name, "must be an array of strings") }
                strings.append(text)
            }
            return strings
        default: throw invalid(name, "must be an array of strings")
        }
    }

    public func optionalObject(_ name: String) throws(FieldError) -> JSONValue? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object?: return fields[name]
        default: throw invalid(name, "must be a JSON object")
        }
    }

    public func optionalArray(_ name: String) throws(FieldError) -> [JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?: return values
        default: throw invalid(name, "must be an array")
        }
    }

    /// A time as Unix seconds or an RFC 3339 string, in store milliseconds.
    public func optionalTime(_ name: String) throws(FieldError) -> UnixMillis? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let seconds)?:
            return try unixSeconds(seconds, name)
        case .string(let text)? where Double(text) != nil:
            // Query strings carry numbers as text: `since=1700000000`.
            return try unixSeconds(Double(text)!, name)
        case .string(let text)?:
            guard let millis = TimeFormat.parseRFC3339(text), millis >= 0 else {
                throw invalid(name, "must be Unix seconds or an RFC 3339 time")
            }
            return millis
        default: throw invalid(name, "must be Unix seconds or an RFC 3339 time")
        }
    }
}

extension JSONFields {
    /// Unix seconds to the millisecond, from 1970 to year 5138.
    func unixSeconds(_ seconds: Double, _ name: String) throws(FieldError) -> UnixMillis {
        guard seconds.isFinite, seconds >= 0, seconds < 1e11 else { throw invalid(name, "must be Unix seconds") }
        return UnixMillis((seconds * 1000).rounded())
    }
}

/// A field that is missing, of the wrong type or out of its range.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field) \(reason)" }
}
