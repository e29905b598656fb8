import Crypto
import Embeddings
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Maintenance
import MemoryService
import MemoryStore
@testable import memkeepd
import Prometheus
import TestSupport

/// The API's real router on a real Hummingbird server on a loopback port, over a real store in a
/// temporary directory on a manual clock.
struct APIHarness: Sendable {
    let test: TestStore
    let dependencies: APIDependencies
    let scheduler: Scheduler

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    /// What the API logged, for the entries operators rely on (MESSAGE_IDs and fields).
    let logs = LogCapture()

    init(embedder: (any TextEmbedder)? = nil, _ configure: (inout HTTPConfiguration) -> Void = { _ in }) throws {
        try self.init(test: TestStore(), embedder: embedder, configure)
    }

    /// A harness over a store of `backend` for the duration of `body`.
    static func with(
        _ backend: TestBackend, embedder: (any TextEmbedder)? = nil,
        _ configure: @escaping @Sendable (inout HTTPConfiguration) -> Void = { _ in },
        _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        try await TestStore.with(backend) { test in
            try await body(APIHarness(test: test, embedder: embedder, configure))
        }
    }

    /// A second daemon on the same store (a restart): a new store instance, same clock.
    func restarted() throws -> APIHarness {
        try APIHarness(test: test, reopen: true, embedder: dependencies.service.embedder) { $0 = dependencies.http }
    }

    private init(
        test: TestStore, reopen: Bool = false, embedder: (any TextEmbedder)?, _ configure: (inout HTTPConfiguration) -> Void
    ) throws {
        self.test = test
        var http = HTTPConfiguration()
        configure(&http)
        let store = reopen ? try test.store.reopened() : test.store
        let runner = JobRunner(store: store, configuration: MaintenanceConfiguration(), logger: Self.logger, embedder: embedder)
        scheduler = Scheduler(runner: runner, clock: test.clock, logger: Self.logger)
        dependencies = APIDependencies(
            store: store, maintenance: scheduler,
            registry: PrometheusCollectorRegistry(), state: ServiceState(startedAt: test.clock.now()), clock: test.clock,
            logger: Logger(label: "memkeepd") { [logs] _ in logs }, http: http, embedder: embedder)
    }

    /// Runs the `embed` job to its end; returns how many memories it embedded.
    @discardableResult
    func embedAll() async throws -> Int {
        let report = await scheduler.runNow(.embed, trigger: .admin, dryRun: false)
        guard report.status == .ok else { throw EmbedFailed(report: report) }
        return report.embedded ?? 0
    }

    struct EmbedFailed: Error {
        var report: JobReport
    }

    var store: MemoryStore { dependencies.store }
    var clock: ManualClock { test.clock }

    func run(_ body: @Sendable (APIClient) async throws -> Void) async throws {
        let app = Application(
            router: buildRouter(dependencies).router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)), logger: Self.logger)
        try await app.test(.live) { client in try await body(APIClient(client: client)) }
    }
}

/// A log handler that keeps every entry's message and metadata.
final class LogCapture: LogHandler, @unchecked Sendable {
    struct Entry {
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var captured: [Entry] = []
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let entry = Entry(message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 })
        lock.withLock { captured.append(entry) }
    }

    var entries: [Entry] { lock.withLock { captured } }
}

struct Reply: Sendable {
    var status: Int
    var text: String

    var json: JSONValue? { try? JSONValue.parse(text) }
    var object: [String: JSONValue] { json?.objectValue ?? [:] }
    var error: String { object["error"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "" }
    var code: String { object["code"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "" }

    func string(_ path: String...) -> String? {
        var value: JSONValue? = json
        for key in path { value = value?.objectValue?[key] }
        if case .string(let text)? = value { return text }
        return nil
    }
}

struct APIClient: Sendable {
    let client: any TestClientProtocol

    /// The live server's loopback port, for raw-socket requests.
    var port: Int { client.port ?? 0 }

    func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, headers: [String: String] = [:])
        async throws -> Reply
    {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        if body != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
        let response = try await client.executeRequest(
            uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
        return Reply(status: Int(response.status.code), text: String(buffer: response.body))
    }
}
