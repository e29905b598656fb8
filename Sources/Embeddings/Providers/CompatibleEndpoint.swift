import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// How an endpoint waits: out its backoffs, and for each exchange's deadline. The daemon waits
/// in real time; tests record the backoffs, or step both on a mock clock.
public struct EndpointWaits: Sendable {
    /// Waits out a backoff.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Returns once an exchange's time is up (it is cancelled when the answer comes first).
    public var deadline: @Sendable (Duration) async throws -> Void
    /// The fraction of the exponential backoff to wait, in 0.5...1: spreads the retries of many
    /// clients that failed together.
    public var jitter: @Sendable () -> Double

    public init(
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        deadline: @escaping @Sendable (Duration) async throws -> Void,
        jitter: @escaping @Sendable () -> Double = { .random(in: 0.5...1) }
    ) {
        self.sleep = sleep
        self.deadline = deadline
        self.jitter = jitter
    }

    public static var realTime: EndpointWaits {
        EndpointWaits(sleep: { try await Task.sleep(for: $0) }, deadline: { try await Task.sleep(for: $0) })
    }
}

/// One OpenAI-compatible endpoint (`…/embeddings`, `…/chat/completions`; llama.cpp server,
/// Ollama, vLLM, OpenAI): JSON POSTs with one deadline per exchange. 429, 5xx, timeouts and
/// transport errors are retried with exponential backoff and jitter, or after `Retry-After`
/// when the server sends one; any other status fails at once (retrying would not change it).
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
    let waits: EndpointWaits

    public init(url: String, apiKey: String? = nil, client: HTTPClient = .shared, waits: EndpointWaits = .realTime) {
        self.url = url
        self.apiKey = apiKey
        self.client = client
        self.waits = waits
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
            switch try await exchangeWithinTimeout(body) {
            case .answered(let answer): return Data(answer.readableBytesView)
            case .failed(let attempt): (failure, retryAfter) = (attempt.failure, attempt.retryAfter)
            case .timedOut: (failure, retryAfter) = (.timedOut(seconds: timeoutSeconds), nil)
            }
            let retryable =
                switch failure {
                case .timedOut, .transport: true
                case .status(let status, _): status == 429 || status >= 500
                }
            guard retryable, attempt < retries else { throw failure }
            try Task.checkCancellation()
            try await waits.sleep(retryAfter.map { min($0, maxBackoff) } ?? backoff(attempt, jitter: waits.jitter()))
            attempt += 1
        }
    }

    func backoff(_ attempt: Int, jitter: Double) -> Duration {
        min(initialBackoff * (1 << min(attempt, 20)), maxBackoff) * jitter
    }

    enum Outcome: Sendable {
        case answered(ByteBuffer)
        case failed(Attempt)
        case timedOut
    }

    /// One exchange against its deadline, whichever ends first; the other is cancelled. A
    /// server that stalls mid-body times out too. Throws only cancellation.
    func exchangeWithinTimeout(_ body: Data) async throws -> Outcome {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do throws(Attempt) { return .answered(try await exchange(body)) } catch { return .failed(error) }
            }
            group.addTask {
                try await waits.deadline(timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    struct Attempt: Error, Sendable {
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
            let response = try await client.execute(request, timeout: .hours(24))
            status = Int(response.status.code)
            answerHeaders = response.headers
            answer = try await response.body.collect(upTo: 64 << 20)
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
