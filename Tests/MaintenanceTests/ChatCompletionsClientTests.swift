import Embeddings
import Foundation
import Hummingbird
import Maintenance
import MemoryStore
import NIOCore
import Synchronization
import Testing
import TestSupport

/// A loopback server speaking `POST /v1/chat/completions`, answering from a script.
final class FakeChatServer: Sendable {
    enum Answer: Sendable {
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

    init(_ script: [Answer]) {
        state.withLock { $0.script = script }
    }

    var requests: [[String: JSONValue]] { state.withLock { $0.requests } }
    var headers: [HTTPFields] { state.withLock { $0.headers } }

    func run(_ body: @Sendable (String) async throws -> Void) async throws {
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

@Suite struct ChatCompletionsClientTests {
    static let answer = #"{"topics": [{"topic": 1, "sentences": [{"text": "Uses AlloyDB.", "cites": ["a"]}]}]}"#

    static func client(_ url: String, sleeps: RecordedSleeps = RecordedSleeps()) -> ChatCompletionsClient {
        var settings = ChatCompletionsClient.Settings(url: url, model: "local-model", apiKey: "secret")
        settings.extraHeaders = ["X-Title": "memkeep"]
        return ChatCompletionsClient(settings: settings, sleep: sleeps.sleep)
    }

    @Test func aCompletionCarriesTheModelSettingsSchemaAndKeyAndReportsUsage() async throws {
        let server = FakeChatServer([.content(Self.answer)])
        try await server.run { url in
            let completion = try await Self.client(url).complete(system: "sys", user: "facts", schema: SummaryPrompt.answerSchema)
            #expect(completion == .init(content: Self.answer, promptTokens: 100, completionTokens: 20, usageReported: true))
        }
        let request = try #require(server.requests.first)
        #expect(request["model"] == .string("local-model"))
        #expect(request["temperature"] == .number(0) && request["max_tokens"] == .number(600))
        #expect(request["messages"]?.arrayValue?.count == 2)
        #expect(request["response_format"]?["json_schema"]?["schema"] == SummaryPrompt.answerSchema)
        #expect(server.headers.first?[.authorization] == "Bearer secret")
        #expect(server.headers.first?.first { $0.name.canonicalName == "x-title" }?.value == "memkeep")
    }

    @Test func withoutUsageTheTokensAreEstimated() async throws {
        let server = FakeChatServer([.content(Self.answer, usage: nil)])
        try await server.run { url in
            let completion = try await Self.client(url).complete(system: "12345678", user: "1234", schema: nil)
            #expect(completion.usageReported == false)
            #expect(completion.promptTokens == 3 && completion.completionTokens == (Self.answer.count + 3) / 4)
        }
    }

    @Test func aServerRefusingTheSchemaIsAskedAgainWithInstructionsAlone() async throws {
        let server = FakeChatServer([.status(400, body: #"{"error": "response_format is not supported"}"#), .content(Self.answer)])
        try await server.run { url in
            let completion = try await Self.client(url).complete(system: "s", user: "u", schema: SummaryPrompt.answerSchema)
            #expect(completion.content == Self.answer)
        }
        #expect(server.requests.map { $0["response_format"] != nil } == [true, false])
    }

    @Test func retryAfterIsHonouredAndOtherFailuresBackOff() async throws {
        let server = FakeChatServer([.status(429, retryAfter: 2), .status(503), .content(Self.answer)])
        let sleeps = RecordedSleeps()
        try await server.run { url in
            let completion = try await Self.client(url, sleeps: sleeps).complete(system: "s", user: "u", schema: nil)
            #expect(completion.content == Self.answer)
        }
        #expect(sleeps.all == [.seconds(2), .seconds(1)])
    }

    @Test func failuresPastTheRetriesAreNamed() async throws {
        let server = FakeChatServer([.status(500), .status(500), .status(500)])
        try await server.run { url in
            do {
                _ = try await Self.client(url).complete(system: "s", user: "u", schema: nil)
                Issue.record("no failure")
            } catch let failure as ChatCompletionsClient.Failure {
                #expect(failure.reason == "status_500")
                #expect(failure.description.hasPrefix("chat server \(url)/chat/completions answered 500"))
            }
        }
        #expect(server.requests.count == 3, "the first attempt and two retries")
    }

    @Test(arguments: [
        ("http://h/v1", "http://h/v1/chat/completions"), ("http://h/v1/", "http://h/v1/chat/completions"),
        ("https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
         "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"),
    ])
    func endpointsFromBaseOrFullURLs(url: String, endpoint: String) {
        #expect(ChatCompletionsClient.Settings(url: url, model: "m").endpoint == endpoint)
    }
}
