import Embeddings
import Foundation
import Hummingbird
import Maintenance
import MemoryStore
import NIOCore
import Synchronization
import Testing
import TestSupport

@Suite struct ChatCompletionsClientTests {
    static let answer = #"{"topics": [{"topic": 1, "sentences": [{"text": "Uses AlloyDB.", "cites": ["a"]}]}]}"#

    static func client(_ url: String, sleeps: RecordedSleeps = RecordedSleeps()) -> ChatCompletionsClient {
        var settings = ChatCompletionsClient.Settings(url: url, model: "local-model", apiKey: "secret")
        settings.extraHeaders = ["X-Title": "memkeep"]
        return ChatCompletionsClient(settings: settings, waits: sleeps.waits)
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
