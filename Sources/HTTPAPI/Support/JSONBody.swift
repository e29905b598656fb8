import Foundation
import Hummingbird
import MemoryStore

/// A request's JSON object, read field by field: every wrong type or value is an error that
/// names the field, and nothing is guessed.
struct JSONBody: Sendable {
    let fields: [String: JSONValue]

    init(_ fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// Reads and parses the body (at most `limit` bytes); an empty body is an empty object.
    static func read(_ request: Request, limit: Int, allowEmpty: Bool = false) async throws -> JSONBody {
        let buffer = try await collect(request, limit: limit)
        if buffer.readableBytes == 0, allowEmpty { return JSONBody([:]) }
        return try parse(Data(buffer.readableBytesView))
    }

    /// A JSON object from raw bytes (the webhook route verifies the bytes before it parses).
    static func parse(_ bytes: Data) throws -> JSONBody {
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

    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // A chunked body has no length to check up front: NIO stops it at the limit.
            throw Self.tooLarge(limit)
        }
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", "request body is over \(limit) bytes (http.max_body)")
    }

    /// Fields this route does not read, for the answer's `warnings`.
    func unknownFields(known: Set<String>) -> [String] {
        fields.keys.filter { !known.contains($0) }.sorted().map { "unknown field '\($0)' ignored" }
    }

    func isPresent(_ name: String) -> Bool {
        guard let value = fields[name] else { return false }
        return value != .null
    }

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw APIError.invalid(name, "is required") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.invalid(name, "must be a string")
        }
    }

    func optionalDouble(_ name: String) throws -> Double? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        default: throw APIError.invalid(name, "must be a number")
        }
    }

    func optionalInt(_ name: String) throws -> Int64? {
        guard let value = try optionalDouble(name) else { return nil }
        // Range checks belong to each field's own rule, which names the range.
        guard let integer = Int64(exactly: value) else { throw APIError.invalid(name, "must be an integer") }
        return integer
    }

    func optionalBool(_ name: String) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw APIError.invalid(name, "must be true or false")
        }
    }

    func optionalStrings(_ name: String) throws -> [String]? {
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

    func optionalObject(_ name: String) throws -> JSONValue? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object?: return fields[name]
        default: throw APIError.invalid(name, "must be a JSON object")
        }
    }

    func optionalArray(_ name: String) throws -> [JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?: return values
        default: throw APIError.invalid(name, "must be an array")
        }
    }

    /// A time as Unix seconds or an RFC 3339 string, in store milliseconds.
    func optionalTime(_ name: String) throws -> UnixMillis? {
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
    static func unixSeconds(_ seconds: Double, _ name: String) throws -> UnixMillis {
        guard seconds.isFinite, seconds >= 0, seconds < 1e11 else { throw APIError.invalid(name, "must be Unix seconds") }
        return UnixMillis(seconds * 1000)
    }
}

/// Query parameters, read the same way.
struct QueryParameters: Sendable {
    let values: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
        self.values = values
    }

    /// As a JSON body, so GET and POST forms share one reader.
    func asBody(numbers: Set<String>, booleans: Set<String>, lists: Set<String>) throws -> JSONBody {
        var fields: [String: JSONValue] = [:]
        for (key, value) in values {
            if numbers.contains(key) {
                guard let number = Double(value) else { throw APIError.invalid(key, "must be a number") }
                fields[key] = .number(number)
            } else if booleans.contains(key) {
                guard let flag = Bool(value) else { throw APIError.invalid(key, "must be true or false") }
                fields[key] = .bool(flag)
            } else if lists.contains(key) {
                let items = value.split(separator: ",", omittingEmptySubsequences: false)
                guard !items.contains(where: \.isEmpty) else {
                    throw APIError.invalid(key, "must be comma-separated values, none of them empty")
                }
                fields[key] = .array(items.map { .string(String($0)) })
            } else {
                fields[key] = .string(value)
            }
        }
        return JSONBody(fields)
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.invalid(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = values[name] else { return nil }
        guard let flag = Bool(text) else { throw APIError.invalid(name, "must be true or false") }
        return flag
    }
}
