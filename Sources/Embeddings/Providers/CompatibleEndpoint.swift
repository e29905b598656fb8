import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One OpenAI-compatible endpoint (`…/embeddings`, `…/chat/completions`; llama.cpp server,
/// Ollama, vLLM, OpenAI): JSON POSTs with one deadline per exchange. 429, 5xx, timeouts and
/// transport errors are retried with exponential backoff that honours `Retry-After`; any other
/// status fails at once (retrying would not change it).
public struct CompatibleEndpoint: Sendable {
    public var url: String
    public var apiKey: String?
    /// Sent with every request (`llm.extra_headers`: Azure's `api-key`, an OpenRouter title…).
    public var headers: [String: String] = [:]
    public var timeout: Duration = .seconds(30)
    /// Attempts after the first.
    public var retries = 3
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    let client: HTTPClient
    let sleep: @Sendable (Duration) async throws -> Void

    /// `sleep` waits out backoffs; tests pass a mock clock's.
    public init(
        url: String, apiKey: String? = nil, client: HTTPClient = .shared,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.url = url
        self.apiKey = apiKey
        self.client = client
        self.sleep = sleep
    }

    /// The URL of `path` (`/embeddings`, `/chat/completions`) under an API base; a URL that
    /// already names the path (Azure-style deployments, with their query) is taken as it is.
    public static func url(base: String, path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base.contains(path) ? base : base + path
    }

    /// Why a POST failed, after its retries when retryable.
    public enum Failure: Error, Equatable, Sendable {
        case timedOut(seconds: Double)
        case transport(String)
        case status(Int, body: String)
    }

    /// The body of the 200 answer to `body`. Throws a `Failure`, or the cancellation that ended
    /// a wait between attempts.
    public func post(_ body: Data) async throws -> Data {
        var attempt = 0
        while true {
            let failure: Failure
            let retryAfter: Duration?
            do {
                return Data(try await exchange(body).readableBytesView)
            } catch {
                (failure, retryAfter) = (error.failure, error.retryAfter)
            }
            let retryable =
                switch failure {
                case .timedOut, .transport: true
                case .status(let status, _): status == 429 || status >= 500
                }
            guard retryable, attempt < retries else { throw failure }
            try await sleep(retryAfter.map { min($0, maxBackoff) } ?? backoff(attempt))
            attempt += 1
        }
    }

    func backoff(_ attempt: Int) -> Duration {
        min(initialBackoff * (1 << min(attempt, 20)), maxBackoff)
    }

    struct Attempt: Error {
        var failure: Failure
        var retryAfter: Duration?
    }

    var timeoutSeconds: Double {
        Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    }

    func exchange(_ body: Data) async throws(Attempt) -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: Int
        let answerHeaders: HTTPHeaders
        let answer: ByteBuffer
        do {
            // One deadline for the whole exchange: a server that stalls mid-body times out too.
            let deadline = NIODeadline.now() + .nanoseconds(Int64(timeoutSeconds * 1e9))
            let response = try await client.execute(request, deadline: deadline)
            status = Int(response.status.code)
            answerHeaders = response.headers
            answer = try await response.body.collect(upTo: 64 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Attempt(failure: .timedOut(seconds: timeoutSeconds))
        } catch {
            throw Attempt(failure: .transport("\(error)"))
        }
        guard status == 200 else {
            let retryAfter = answerHeaders.first(name: "Retry-After").flatMap(Double.init)
                .map { Duration.milliseconds(Int64(max(0, $0) * 1000)) }
            throw Attempt(failure: .status(status, body: String(buffer: answer)), retryAfter: retryAfter)
        }
        return answer
    }
}
