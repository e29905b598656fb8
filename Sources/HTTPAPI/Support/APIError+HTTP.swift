import Foundation
import Hummingbird
import MemoryService
import MemoryStore

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        json
    }

    var json: Response {
        let body = JSONValue.object([
            "error": .string(message), "code": .string(code), "status": .number(Double(status.code)),
        ])
        var response = JSONResponse.make(body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// Maps whatever a handler threw, including the router's own errors, to the answer a client gets.
    static func answer(for error: any Error) -> APIError? {
        switch error {
        case let error as APIError: return error
        case let error as HTTPError:
            switch error.status {
            case .notFound: return APIError(.notFound, code: "ROUTE_NOT_FOUND", "no such route")
            case .contentTooLarge: return APIError(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", "request body is too large")
            case .methodNotAllowed: return APIError(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", "method not allowed here")
            default: return APIError(error.status, code: "INVALID_REQUEST", error.body ?? error.status.reasonPhrase)
            }
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return APIError(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", "request body is too large")
        default: return from(error)
        }
    }
}

/// JSON answers built from `JSONValue`, with sorted keys.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText())))
    }
}
