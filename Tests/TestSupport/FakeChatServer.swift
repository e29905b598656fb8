import Foundation
import Hummingbird
import MemoryStore
import NIOCore
import Synchronization

/// A loopback server speaking `POST /v1/chat/completions`, answering from a script, then from a
/// responder that sees each request's user message.
public final class FakeChatServer: Sendable {
    public enum Answer: Sendable {
        /// 200 with this message content, and `usage` unless nil.
        case content(String, usage: (prompt: Int, completion: Int)? = (100, 20))
        case status(Int, retryAfter: Int? = nil, body: String = #"{"error": {"message": "scripted failure"}}"#)
        /// No answer until the test ends (or `releaseStalls()`), then a 503: a hung server.
        case stall
    }

    struct State {
        var script: [Answer] = []
        var requests: [[String: JSONValue]] = []
        var headers: [HTTPFields] = []
        /// What each 200 answer billed, in order.
        var billed: [(prompt: Int, completion: Int)] = []
        var stalled: [CheckedContinuation<Void, Never>] = []
        var released = false
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    let responder: @Sendable (_ user: String) -> Answer

    /// `responder` answers once the script is used up; by default with 500s.
    public init(_ script: [Answer] = [], responder: @escaping @Sendable (_ user: String) -> Answer = { _ in .status(500) }) {
        self.responder = responder
        state.withLock { $0.script = script }
    }

    public var requests: [[String: JSONValue]] { state.withLock { $0.requests } }
    public var headers: [HTTPFields] { state.withLock { $0.headers } }
    /// The user messages of the requests, in order.
    public var prompts: [String] { requests.map { Self.userMessage(of: $0) } }
    /// The tokens of every 200 answer's `usage`.
    public var billedTokens: Int { state.withLock { $0.billed.map { $0.prompt + $0.completion }.reduce(0, +) } }
    public var billedCalls: Int { state.withLock { $0.billed.count } }

    public func run(_ body: @Sendable (String) async throws -> Void) async throws {
        try await Loopback.serve(post: "/v1/chat/completions", answer: answer) { url in
            // A stalled handler would hold the server's shutdown.
            defer { releaseStalls() }
            try await body(url)
        }
    }

    /// Answers every stalled request (with a 503), and every later `.stall` at once.
    public func releaseStalls() {
        let stalled = state.withLock { state in
            state.released = true
            defer { state.stalled = [] }
            return state.stalled
        }
        stalled.forEach { $0.resume() }
    }

    /// Returns once `count` requests have arrived.
    public func requestsReceived(atLeast count: Int) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.requests.count >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    static func userMessage(of request: [String: JSONValue]) -> String {
        for message in request["messages"]?.arrayValue ?? [] where message["role"] == .string("user") {
            if case .string(let text)? = message["content"] { return text }
        }
        return ""
    }

    func answer(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 16 << 20)
        let json = try JSONValue.parse(String(buffer: bytes)).objectValue ?? [:]
        let (scripted, ready) = state.withLock { state -> (Answer?, [CheckedContinuation<Void, Never>]) in
            state.requests.append(json)
            state.headers.append(request.headers)
            let ready = state.watchers.filter { $0.count <= state.requests.count }.map(\.continuation)
            state.watchers.removeAll { $0.count <= state.requests.count }
            return (state.script.isEmpty ? nil : state.script.removeFirst(), ready)
        }
        ready.forEach { $0.resume() }
        let next = scripted ?? responder(Self.userMessage(of: json))
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
                state.withLock { $0.billed.append(usage) }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(answer).jsonText())))
        case .status(let code, let retryAfter, let body):
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
            return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .stall:
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.released { return true }
                    state.stalled.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
            return Response(status: .serviceUnavailable)
        }
    }
}
