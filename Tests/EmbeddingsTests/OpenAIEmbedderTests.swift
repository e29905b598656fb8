import Embeddings
import Foundation
import Testing
import TestSupport

/// The OpenAI-compatible client against a loopback server speaking that protocol.
@Suite struct OpenAIEmbedderTests {
    static func embedder(_ url: String, sleeps: RecordedSleeps, retries: Int = 3, timeout: Duration = .seconds(30)) -> OpenAIEmbedder {
        var settings = OpenAIEmbedder.Settings(url: url, model: "all-minilm", apiKey: "sk-test", dimensions: 384)
        settings.retries = retries
        settings.timeout = timeout
        settings.batchSize = 2
        return OpenAIEmbedder(settings: settings, waits: sleeps.waits)
    }

    @Test func theServersVectorsComeBackInInputOrderInBatchesWithTheKey() async throws {
        let model = try TestModel.builtin()
        let server = FakeEmbeddingsServer(model: model)
        let texts = ["runs PostgreSQL 14", "likes tea", "which database do they use", "lives in Lisbon", "cello"]
        try await server.run { url in
            let vectors = try await Self.embedder(url, sleeps: RecordedSleeps()).embed(texts)
            let expected = try await model.embed(texts)
            for (got, want) in zip(vectors, expected) {
                #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-6 })
            }
            #expect(vectors.count == texts.count)
        }
        #expect(server.requests.map(\.count) == [2, 2, 1])
        #expect(server.authorizations.allSatisfy { $0 == "Bearer sk-test" })
    }

    @Test func a429IsRetriedAfterTheServersRetryAfter() async throws {
        let server = FakeEmbeddingsServer(model: try TestModel.builtin())
        server.script([.status(429, retryAfter: 7)])
        let sleeps = RecordedSleeps()
        try await server.run { url in
            let vectors = try await Self.embedder(url, sleeps: sleeps).embed(["hello"])
            #expect(vectors.count == 1)
        }
        #expect(sleeps.all == [.seconds(7)])
        #expect(server.requests.count == 2)
    }

    @Test func serverErrorsAreRetriedWithDoublingBackoffThenReported() async throws {
        let server = FakeEmbeddingsServer(model: try TestModel.builtin())
        server.script([], then: .status(500))
        let sleeps = RecordedSleeps()
        try await server.run { url in
            await #expect(throws: EmbeddingError.self) { try await Self.embedder(url, sleeps: sleeps, retries: 3).embed(["hello"]) }
        }
        #expect(sleeps.all == [.milliseconds(500), .seconds(1), .seconds(2)])
        #expect(server.requests.count == 4)
    }

    @Test(arguments: [
        (FakeEmbeddingsServer.Answer.malformed, "malformed answer"),
        (.wrongDimensions, "100 dimensions, expected 384"),
        (.status(400), "answered 400"),
    ])
    func answersThatRetryingCannotFixFailAtOnce(answer: FakeEmbeddingsServer.Answer, message: String) async throws {
        let server = FakeEmbeddingsServer(model: try TestModel.builtin())
        server.script([], then: answer)
        let sleeps = RecordedSleeps()
        try await server.run { url in
            do {
                _ = try await Self.embedder(url, sleeps: sleeps).embed(["hello"])
                Issue.record("no error")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
        #expect(server.requests.count == 1)
        #expect(sleeps.all.isEmpty)
    }

    @Test func aStalledServerTimesOut() async throws {
        let server = FakeEmbeddingsServer(model: try TestModel.builtin())
        server.script([], then: .stall)
        try await server.run { url in
            do {
                _ = try await Self.embedder(url, sleeps: RecordedSleeps(), retries: 0, timeout: .milliseconds(300)).embed(["hello"])
                Issue.record("no error")
            } catch {
                #expect(error as? EmbeddingError == .timedOut(url: url + "/embeddings", seconds: 0.3), "\(error)")
            }
        }
    }
}
