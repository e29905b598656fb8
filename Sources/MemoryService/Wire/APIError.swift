import Foundation
import HTTPTypes
import MemoryStore

/// An error answer in Dakera's shape, `{"error", "code", "status"}`, naming what was wrong.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Extra response headers (`Allow` with a 405).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public static func invalid(_ field: String, _ reason: String) -> APIError {
        APIError(.badRequest, code: "INVALID_ARGUMENT", "\(field) \(reason)")
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "NOT_FOUND", "\(what) not found")
    }

    /// Maps whatever a handler threw to the answer a client gets.
    public static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError: return error
        case let error as FieldError: return .invalid(error.field, error.reason)
        case let error as StoreError:
            switch error {
            case .invalidArgument(let field, let reason): return .invalid(field, reason)
            case .sessionNotFound(let id): return .notFound("session \(id)")
            case .memoryNotFound(let id): return .notFound("memory \(id)")
            case .supersededNotFound: return APIError(.notFound, code: "NOT_FOUND", error.description)
            case .consolidationNotFound(let id): return .notFound("consolidation or summary \(id)")
            case .alreadyExists: return APIError(.conflict, code: "CONFLICT", error.description)
            case .notRestorable: return APIError(.badRequest, code: "INVALID_ARGUMENT", error.description)
            case .storageFull:
                return APIError(
                    .init(code: 507, reasonPhrase: "Insufficient Storage"), code: "STORAGE_FULL",
                    "the store's disk is full; nothing was written, retry once space is freed")
            case .unsupported:
                return APIError(.init(code: 501, reasonPhrase: "Not Implemented"), code: "NOT_IMPLEMENTED", error.description)
            case .unavailable:
                return APIError(
                    .serviceUnavailable, code: "STORE_UNAVAILABLE", "the store cannot be reached; retry shortly",
                    headers: [.retryAfter: "1"])
            case .backend:
                return nil
            }
        default: return nil
        }
    }
}
