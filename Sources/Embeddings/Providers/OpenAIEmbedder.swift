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

        public var endpoint: String { CompatibleEndpoint.url(base: url, path: "/embeddings") }
    }

    public let settings: Settings
    public var modelID: String { settings.model }
    public var dimensions: Int { settings.dimensions }
    public var embedsInline: Bool { false }
    let endpoint: CompatibleEndpoint

    public init(settings: Settings, client: HTTPClient = .shared, waits: EndpointWaits = .realTime) {
        self.settings = settings
        var endpoint = CompatibleEndpoint(url: settings.endpoint, apiKey: settings.apiKey, client: client, waits: waits)
        endpoint.timeout = settings.timeout
        endpoint.retries = settings.retries
        endpoint.initialBackoff = settings.initialBackoff
        endpoint.maxBackoff = settings.maxBackoff
        self.endpoint = endpoint
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
        let url = settings.endpoint
        let body = try JSONSerialization.data(withJSONObject: ["model": settings.model, "input": texts] as [String: Any])
        let answer: Data
        do {
            answer = try await endpoint.post(body)
        } catch let failure as CompatibleEndpoint.Failure {
            switch failure {
            case .timedOut(let seconds): throw EmbeddingError.timedOut(url: url, seconds: seconds)
            case .transport(let reason): throw EmbeddingError.transport(url: url, reason: reason)
            case .status(let status, let text): throw EmbeddingError.server(url: url, status: status, body: text)
            }
        }
        return try Self.vectors(from: answer, count: texts.count, dimensions: settings.dimensions, url: url)
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
