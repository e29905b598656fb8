import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Any OpenAI-compatible `POST …/embeddings` (llama.cpp server, Ollama, vLLM, OpenAI).
/// Retries 429, 5xx, timeouts and transport errors with exponential backoff, honouring
/// `Retry-After`; any other error status, a malformed answer or vectors of the wrong size fail
/// at once (retrying would not change them).
public struct OpenAIEmbedder: TextEmbedder {
    public struct Settings: Sendable, Equatable {
        /// The API's base, e.g. `http://127.0.0.1:8080/v1`; requests go to `<url>/embeddings`.
        public var url: String
        public var model: String
        public var apiKey: String?
        public var dimensions: Int
        public var batchSize = 64
        public var timeout: Duration = .seconds(30)
        /// Attempts after the first.
        public var retries = 3
        public var initialBackoff: Duration = .milliseconds(500)
        public var maxBackoff: Duration = .seconds(30)

        public init(url: String, model: String, apiKey: String? = nil, dimensions: Int) {
            self.url = url
            self.model = model
            self.apiKey = apiKey
            self.dimensions = dimensions
        }

        public var endpoint: String {
            var base = url
            while base.hasSuffix("/") { base.removeLast() }
            return base.hasSuffix("/embeddings") ? base : base + "/embeddings"
        }
    }

    public let settings: Settings
    public var modelID: String { settings.model }
    public var dimensions: Int { settings.dimensions }
    public var embedsInline: Bool { false }
    let client: HTTPClient
    let sleep: @Sendable (Duration) async throws -> Void

    /// `sleep` waits out backoffs; tests pass a mock clock's.
    public init(
        settings: Settings, client: HTTPClient = .shared,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.settings = settings
        self.client = client
        self.sleep = sleep
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(texts.count, start + max(1, settings.batchSize))
            vectors += try await embedBatch(Array(texts[start..<end]))
            start = end
        }
        return vectors
    }

    func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        var attempt = 0
        while true {
            let failure: Failure
            do {
                return try await post(texts)
            } catch {
                failure = error
            }
            guard failure.retryable, attempt < settings.retries else { throw failure.error }
            try await sleep(failure.retryAfter.map { min($0, settings.maxBackoff) } ?? backoff(attempt))
            attempt += 1
        }
    }

    func backoff(_ attempt: Int) -> Duration {
        min(settings.initialBackoff * (1 << min(attempt, 20)), settings.maxBackoff)
    }

    struct Failure: Error {
        var error: EmbeddingError
        var retryable: Bool
        var retryAfter: Duration?
    }

    func post(_ texts: [String]) async throws(Failure) -> [[Float]] {
        let url = settings.endpoint
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = settings.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let body: Data
        do {
            body = try JSONSerialization.data(withJSONObject: ["model": settings.model, "input": texts] as [String: Any])
        } catch {
            throw Failure(error: .malformedAnswer(url: url, reason: "cannot encode the request: \(error)"), retryable: false)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = Double(settings.timeout.components.seconds) + Double(settings.timeout.components.attoseconds) / 1e18
        let status: Int
        let headers: HTTPHeaders
        let answer: ByteBuffer
        do {
            // One deadline for the whole exchange: a server that stalls mid-body times out too.
            let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
            let response = try await client.execute(request, deadline: deadline)
            status = Int(response.status.code)
            headers = response.headers
            answer = try await response.body.collect(upTo: 64 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Failure(error: .timedOut(url: url, seconds: seconds), retryable: true)
        } catch {
            throw Failure(error: .transport(url: url, reason: "\(error)"), retryable: true)
        }
        let text = String(buffer: answer)
        guard status == 200 else {
            let retryable = status == 429 || status >= 500
            let retryAfter = headers.first(name: "Retry-After").flatMap(Double.init).map { Duration.milliseconds(Int64(max(0, $0) * 1000)) }
            throw Failure(error: .server(url: url, status: status, body: text), retryable: retryable, retryAfter: retryAfter)
        }
        do {
            return try Self.vectors(from: Data(answer.readableBytesView), count: texts.count, dimensions: settings.dimensions, url: url)
        } catch let error as EmbeddingError {
            throw Failure(error: error, retryable: false)
        } catch {
            throw Failure(error: .malformedAnswer(url: url, reason: "\(error)"), retryable: false)
        }
    }

    /// The `data[].embedding` vectors of an answer, ordered by `index`, checked and normalised.
    static func vectors(from data: Data, count: Int, dimensions: Int, url: String) throws -> [[Float]] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EmbeddingError.malformedAnswer(url: url, reason: "not a JSON object")
        }
        guard let items = root["data"] as? [[String: Any]] else {
            throw EmbeddingError.malformedAnswer(url: url, reason: "no data array")
        }
        guard items.count == count else {
            throw EmbeddingError.malformedAnswer(url: url, reason: "\(items.count) embeddings for \(count) inputs")
        }
        var vectors = [[Float]?](repeating: nil, count: count)
        for (position, item) in items.enumerated() {
            let index = item["index"] as? Int ?? position
            guard (0..<count).contains(index), vectors[index] == nil else {
                throw EmbeddingError.malformedAnswer(url: url, reason: "index \(index) is out of range or repeated")
            }
            guard let values = item["embedding"] as? [Any] else {
                throw EmbeddingError.malformedAnswer(url: url, reason: "data[\(position)].embedding is not an array of numbers")
            }
            guard values.count == dimensions else {
                throw EmbeddingError.wrongDimensions(url: url, expected: dimensions, got: values.count)
            }
            let floats = try values.map { value -> Float in
                guard let number = value as? NSNumber, !(value is Bool), number.doubleValue.isFinite else {
                    throw EmbeddingError.malformedAnswer(url: url, reason: "data[\(position)].embedding holds a non-number")
                }
                return number.floatValue
            }
            vectors[index] = Self.normalized(floats)
        }
        return vectors.map { $0! }
    }
}
