import Embeddings
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// Servers that stand in for remote model servers (embeddings, chat) on a loopback port.
public enum Loopback {
    /// Serves `answer` for `POST path` for the time of `body`, which gets the base URL
    /// (`http://127.0.0.1:PORT/v1`).
    public static func serve(
        post path: String, answer: @escaping @Sendable (Request) async throws -> Response,
        _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let router = Router()
        router.post(RouterPath(path)) { request, _ -> Response in try await answer(request) }
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            logger: Logger(label: "loopback") { _ in SwiftLogNoOpLogHandler() })
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)/v1") }
    }
}

/// Backoffs as a client asks for them, without waiting: records the durations. Exchange
/// deadlines run in real time (long enough never to end a loopback exchange), and the jitter is
/// `jitter`.
public final class RecordedSleeps: Sendable {
    private let slept = Mutex<[Duration]>([])
    let jitter: Double
    public init(jitter: Double = 1) { self.jitter = jitter }
    public var all: [Duration] { slept.withLock { $0 } }
    public var waits: EndpointWaits {
        EndpointWaits(
            sleep: { duration in self.slept.withLock { $0.append(duration) } },
            deadline: { try await Task.sleep(for: $0) }, jitter: { [jitter] in jitter })
    }
}

extension MockClock {
    /// Backoffs and exchange deadlines on this clock: a test steps time past a stalled server.
    public var endpointWaits: EndpointWaits {
        EndpointWaits(sleep: { try await self.sleep(for: $0) }, deadline: { try await self.sleep(for: $0) }, jitter: { 1 })
    }
}
