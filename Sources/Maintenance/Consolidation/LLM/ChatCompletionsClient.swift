import Embeddings
import Foundation
import MemoryStore

/// Any OpenAI-compatible `POST …/chat/completions` (llama.cpp server, Ollama, vLLM, OpenAI, and
/// Azure-style deployment URLs that already name the path). It asks for JSON by schema
/// (`response_format`); a server that refuses that with a 400 is asked again with the
/// instructions alone, which the system prompt carries anyway.
public struct ChatCompletionsClient: Sendable {
    public struct Settings: Sendable, Equatable {
        /// The API's base (`http://127.0.0.1:8080/v1`), or a full `…/chat/completions` URL.
        public var url: String
        public var model: String
        public var apiKey: String?
        public var timeout: Duration = .seconds(60)
        public var temperature = 0.0
        public var maxOutputTokens = 600
        public var extraHeaders: [String: String] = [:]
        /// Attempts after the first, for 429, 5xx, timeouts and transport errors.
        public var retries = 2

        public init(url: String, model: String, apiKey: String? = nil) {
            self.url = url
            self.model = model
            self.apiKey = apiKey
        }

        public var endpoint: String { CompatibleEndpoint.url(base: url, path: "/chat/completions") }
    }

    /// One answer: its text and what it cost. Servers that send no `usage` are estimated at
    /// four characters a token.
    public struct Completion: Sendable, Equatable {
        public var content: String
        public var promptTokens: Int
        public var completionTokens: Int
        public var usageReported: Bool

        public init(content: String, promptTokens: Int, completionTokens: Int, usageReported: Bool) {
            self.content = content
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.usageReported = usageReported
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case endpoint(url: String, CompatibleEndpoint.Failure)
        case malformedAnswer(url: String, reason: String)

        public var description: String {
            switch self {
            case .endpoint(let url, .timedOut(let seconds)): "chat server \(url) did not answer within \(seconds) s"
            case .endpoint(let url, .transport(let reason)): "chat server \(url) unreachable: \(reason)"
            case .endpoint(let url, .status(let status, let body)): "chat server \(url) answered \(status): \(body.prefix(200))"
            case .malformedAnswer(let url, let reason): "chat server \(url) sent a malformed answer: \(reason)"
            }
        }

        /// Short, for metrics and the fallback reason.
        public var reason: String {
            switch self {
            case .endpoint(_, .timedOut): "timeout"
            case .endpoint(_, .transport): "unreachable"
            case .endpoint(_, .status(let status, _)): "status_\(status)"
            case .malformedAnswer: "malformed_answer"
            }
        }
    }

    public let settings: Settings
    let endpoint: CompatibleEndpoint

    public init(settings: Settings, waits: EndpointWaits = .realTime) {
        self.settings = settings
        var endpoint = CompatibleEndpoint(url: settings.endpoint, apiKey: settings.apiKey, waits: waits)
        endpoint.headers = settings.extraHeaders
        endpoint.timeout = settings.timeout
        endpoint.retries = settings.retries
        self.endpoint = endpoint
    }

    public func complete(system: String, user: String, schema: JSONValue?) async throws -> Completion {
        do {
            return try await send(system: system, user: user, schema: schema)
        } catch Failure.endpoint(_, .status(400, _)) where schema != nil {
            return try await send(system: system, user: user, schema: nil)
        }
    }

    func send(system: String, user: String, schema: JSONValue?) async throws -> Completion {
        var body: [String: JSONValue] = [
            "model": .string(settings.model), "temperature": .number(settings.temperature),
            "max_tokens": .number(Double(settings.maxOutputTokens)),
            "messages": .array([
                .object(["role": "system", "content": .string(system)]),
                .object(["role": "user", "content": .string(user)]),
            ]),
        ]
        if let schema {
            body["response_format"] = .object([
                "type": "json_schema",
                "json_schema": .object(["name": "topic_summaries", "schema": schema, "strict": .bool(true)]),
            ])
        }
        let answer: Data
        do {
            answer = try await endpoint.post(Data(JSONValue.object(body).jsonText().utf8))
        } catch let failure as CompatibleEndpoint.Failure {
            throw Failure.endpoint(url: settings.endpoint, failure)
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes: answer)
        } catch {
            throw Failure.malformedAnswer(url: settings.endpoint, reason: "not JSON")
        }
        guard case .array(let choices)? = root.objectValue?["choices"],
            case .string(let content)? = choices.first?.objectValue?["message"]?.objectValue?["content"]
        else {
            throw Failure.malformedAnswer(url: settings.endpoint, reason: "no choices[0].message.content")
        }
        let usage = root.objectValue?["usage"]?.objectValue
        if case .number(let prompt)? = usage?["prompt_tokens"], case .number(let completion)? = usage?["completion_tokens"] {
            return Completion(content: content, promptTokens: Int(prompt), completionTokens: Int(completion), usageReported: true)
        }
        return Completion(
            content: content, promptTokens: Self.estimatedTokens(system) + Self.estimatedTokens(user),
            completionTokens: Self.estimatedTokens(content), usageReported: false)
    }

    /// Four characters a token, rounded up: the usual rule for English text.
    static func estimatedTokens(_ text: String) -> Int { (text.count + 3) / 4 }
}
