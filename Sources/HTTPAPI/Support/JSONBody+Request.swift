import Foundation
import Hummingbird
import MemoryService
import MemoryStore

extension JSONBody {
    /// Reads and parses the body (at most `limit` bytes); an empty body is an empty object.
    static func read(_ request: Request, limit: Int, allowEmpty: Bool = false) async throws -> JSONBody {
        let buffer = try await collect(request, limit: limit)
        if buffer.readableBytes == 0, allowEmpty { return JSONBody([:]) }
        return try parse(Data(buffer.readableBytesView))
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
