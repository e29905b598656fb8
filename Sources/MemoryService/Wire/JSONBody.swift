import Foundation
import MemoryStore

/// A request's JSON object, read field by field: every wrong type or value is an error that
/// names the field, and nothing is guessed.
public struct JSONBody: Sendable {
    public let fields: [String: JSONValue]

    public init(_ fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// A JSON object from raw bytes (the webhook route verifies the bytes before it parses).
    public static func parse(_ bytes: Data) throws -> JSONBody {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes, exactNumbers: true)
        } catch let error as JSONValue.InexactNumber {
            throw APIError.invalid(error.path.isEmpty ? "body" : error.path, error.reason)
        } catch {
            throw bytes.isEmpty ? APIError.invalid("body", "must be a JSON object") : APIError.invalid("body", "is not valid JSON")
        }
        guard let object = value.objectValue else { throw APIError.invalid("body", "must be a JSON object") }
        return JSONBody(object)
    }

    /// Fields this route does not read, for the answer's `warnings`.
    public func unknownFields(known: Set<String>) -> [String] {
        fields.keys.filter { !known.contains($0) }.sorted().map { "unknown field '\($0)' ignored" }
    }

    public func isPresent(_ name: String) -> Bool {
        guard let value = fields[name] else { return false }
        return value != .null
    }

    public func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw APIError.invalid(name, "is required") }
        return value
    }

    public func optionalString(_ name: String) throws -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.invalid(name, "must be a string")
        }
    }

    public func optionalDouble(_ name: String) throws -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        default: throw APIError.invalid(name, "must be a number")
        }
    }

    public func optionalInt(_ name: String) throws -> Int64? {
        guard let value = try optionalDouble(name) else { return nil }
        // Range checks belong to each field's own rule, which names the range.
        guard let integer = Int64(exactly: value) else { throw APIError.invalid(name, "must be an integer") }
        return integer
    }

    public func optionalBool(_ name: String) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.invalid(name, "must be true or false")
        }
    }

    public func optionalStrings(_ name: String) throws -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?:
            return try values.map { value in
                guard case .string(let text) = value else { throw APIError.invalid(name, "must be an array of strings") }
                return text
            }
        default: throw APIError.invalid(name, "must be an array of strings")
        }
    }

    public func optionalObject(_ name: String) throws -> JSONValue? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object?: return fields[name]
        default: throw APIError.invalid(name, "must be a JSON object")
        }
    }

    public func optionalArray(_ name: String) throws -> [JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?: return values
        default: throw APIError.invalid(name, "must be an array")
        }
    }

    /// A time as Unix seconds or an RFC 3339 string, in store milliseconds.
    public func optionalTime(_ name: String) throws -> UnixMillis? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let seconds)?:
            return try Self.unixSeconds(seconds, name)
        case .string(let text)? where Double(text) != nil:
            // Query strings carry numbers as text: `since=1700000000`.
            return try Self.unixSeconds(Double(text)!, name)
        case .string(let text)?:
            guard let millis = TimeFormat.parseRFC3339(text), millis >= 0 else {
                throw APIError.invalid(name, "must be Unix seconds or an RFC 3339 time")
            }
            return millis
        default: throw APIError.invalid(name, "must be Unix seconds or an RFC 3339 time")
        }
    }
}

extension JSONBody {
    public static func unixSeconds(_ seconds: Double, _ name: String) throws -> UnixMillis {
        guard seconds.isFinite, seconds >= 0, seconds < 1e11 else { throw APIError.invalid(name, "must be Unix seconds") }
        return UnixMillis(seconds * 1000)
    }
}
