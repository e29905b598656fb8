import Foundation
import Hummingbird
import MemoryStore
import NIOCore
import Synchronization

/// A loopback server speaking `POST /v1/chat/completions`, answering from a script.
public final class FakeChatServer: Sendable {
    public enum Answer: Sendable {
        /// 200 with this message content, and `usage` unless nil.
        case content(String, usage: (prompt: Int, completion: Int)? = (100, 20))
        case status(Int, retryAfter: Int? = nil, body: String = #"{"error": {"message": "scripted failure"}}"#)
    }

    struct State {
        var script: [Answer] = []
        var requests: [[String: JSONValue]] = []
        var headers: [HTTPFields] = []
    }

    private let state = Mutex(State())

    public init(_ script: [Answer]) {
        state.withLock { $0.script = script }
    }

    public var requests: [[String: JSONValue]] { state.withLock { $0.requests } }
    public var headers: [HTTPFields] { state.withLock { $0.headers } }

    public func run(_ body: @Sendable (String) async throws -> Void) async throws {
        try await Loopback.serve(post: "/v1/chat/completions", answer: answer, body)
    }

    func answer(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 16 << 20)
        let json = try JSONValue.parse(String(buffer: bytes)).objectValue ?? [:]
        let next = state.withLock { state -> Answer in
            state.requests.append(json)
            state.headers.append(request.headers)
            return state.script.isEmpty ? .status(500) : state.script.removeFirst()
        }
        switch next {
        case .content(let content, let usage):
            var answer: [String: JSONValue] = [
                "id": "chatcmpl-1", "object": "chat.completion",
                "choices": .array([.object(["index": .number(0), "message": .object(["role": "assistant", "content": .string(content)])])]),
            ]
            if let usage {
                answer["usage"] = .object([
                    "prompt_tokens": .number(Double(usage.prompt)), "completion_tokens": .number(Double(usage.completion)),
                ])
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(answer).jsonText())))
        case .status(let code, let retryAfter, let body):
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
            return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

