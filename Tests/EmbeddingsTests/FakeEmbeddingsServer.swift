import Embeddings
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import TestSupport

/// A loopback server speaking the OpenAI embeddings protocol (`POST /v1/embeddings`), which
/// answers with the built-in model's vectors, or as told: an error status (with Retry-After),
/// a stall until the test releases it, malformed JSON, or vectors of the wrong size.
final class FakeEmbeddingsServer: Sendable {
    enum Answer: Sendable, Equatable {
        case vectors
        case status(Int, retryAfter: Int? = nil)
        case stall
        case malformed
        case wrongDimensions
    }

    struct State {
        var script: [Answer] = []
        /// What to answer once the script is used up.
        var then: Answer = .vectors
        var requests: [[String]] = []
        var authorization: [String?] = []
        var stalled: [CheckedContinuation<Void, Never>] = []
        var released = false
    }

    let model: BuiltinEmbedder
    private let state = Mutex(State())

    init(model: BuiltinEmbedder) {
        self.model = model
    }

    func script(_ answers: [Answer], then: Answer = .vectors) {
        state.withLock {
            $0.script = answers
            $0.then = then
        }
    }

    var requests: [[String]] { state.withLock { $0.requests } }
    var authorizations: [String?] { state.withLock { $0.authorization } }

    /// Lets every stalled request (and any later one) answer 503.
    func releaseStalls() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.stalled = [] }
            return state.stalled
        }
        waiting.forEach { $0.resume() }
    }

    /// Runs the server on a loopback port for the time of `body`; `body` gets its base URL.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        try await Loopback.serve(post: "/v1/embeddings", answer: answer) { url in
            defer { releaseStalls() }
            try await body(url)
        }
    }

    func answer(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let texts = json?["input"] as? [String] ?? []
        let next = state.withLock { state -> Answer in
            state.requests.append(texts)
            state.authorization.append(request.headers[.authorization])
            return state.script.isEmpty ? state.then : state.script.removeFirst()
        }
        switch next {
        case .vectors, .wrongDimensions:
            var vectors = try await model.embed(texts)
            if next == .wrongDimensions { vectors = vectors.map { Array($0.prefix(100)) } }
            // Answered out of order: the client must sort by `index`.
            let data = vectors.enumerated().reversed().map { index, vector in
                ["object": "embedding", "index": index, "embedding": vector.map(Double.init)] as [String: Any]
            }
            let answer = try JSONSerialization.data(withJSONObject: ["object": "list", "data": data, "model": "fake"] as [String: Any])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        case .status(let code, let retryAfter):
            var headers = HTTPFields()
            if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
            return Response(
                status: .init(code: code), headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: #"{"error": {"message": "scripted failure"}}"#)))
        case .stall:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if !state.released { state.stalled.append(continuation) }
                    return state.released
                }
                if resumeNow { continuation.resume() }
            }
            return Response(status: .serviceUnavailable)
        case .malformed:
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"data": [{"embedding": [0.1, "#)))
        }
    }
}
