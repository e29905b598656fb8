import Crypto
import Hummingbird
import Logging
import Maintenance
import MemoryStore
import Prometheus

/// What the routes need, passed in: the store, the scheduler, the metrics registry, the clock.
public struct APIDependencies: Sendable {
    public static let version = "0.4.0"

    public var store: MemoryStore
    public var scheduler: Scheduler
    public var registry: PrometheusCollectorRegistry
    public var state: ServiceState
    public var clock: any WallClock
    public var logger: Logger
    public var http: HTTPConfiguration

    public init(
        store: MemoryStore, scheduler: Scheduler, registry: PrometheusCollectorRegistry, state: ServiceState,
        clock: any WallClock, logger: Logger, http: HTTPConfiguration
    ) {
        self.store = store
        self.scheduler = scheduler
        self.registry = registry
        self.state = state
        self.clock = clock
        self.logger = logger
        self.http = http
    }
}

/// A route as registered: method and path in OpenAPI form (`/v1/sessions/{id}`).
public struct APIRoute: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var description: String { "\(method) \(path)" }
}

/// Registers routes on the router and keeps the list, so that the list the OpenAPI test
/// checks is the one the router serves.
final class RouteRegistrar {
    let router: Router<APIRequestContext>
    private(set) var routes: [APIRoute] = []

    init(router: Router<APIRequestContext>) {
        self.router = router
    }

    func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response
    ) {
        router.on(RouterPath(path), method: method, use: handler)
        routes.append(APIRoute(method: method.rawValue, path: path))
    }
}

/// The API's router and the routes it serves.
public func buildRouter(_ dependencies: APIDependencies) -> (router: Router<APIRequestContext>, routes: [APIRoute]) {
    let router = Router(context: APIRequestContext.self)
    router.add(
        middleware: APIMiddleware(
            keys: dependencies.http.keys, registry: dependencies.registry, logger: dependencies.logger))
    let registrar = RouteRegistrar(router: router)
    let handlers = APIHandlers(dependencies)
    OperationsRoutes(dependencies: dependencies).add(to: registrar)
    handlers.addSessionRoutes(to: registrar)
    handlers.addMemoryRoutes(to: registrar)
    handlers.addAgentRoutes(to: registrar)
    handlers.addWebhookRoutes(to: registrar)
    handlers.addAdminRoutes(to: registrar)
    return (router, registrar.routes)
}

/// The HTTP server as a `Service` for the daemon's ServiceGroup. `onRunning` fires once the
/// listener is bound, with the bound port (useful with `:0`).
public func buildHTTPServer(
    _ dependencies: APIDependencies, onRunning: @escaping @Sendable (Int) async -> Void
) -> some ApplicationProtocol {
    let configuration = dependencies.http
    return Application(
        router: buildRouter(dependencies).router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "memkeepd"),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
        logger: dependencies.logger)
}

/// The route handlers, sharing the dependencies and the webhook and beacon keys.
struct APIHandlers: Sendable {
    let dependencies: APIDependencies
    let webhooks: WebhookVerifier
    let beacons: BeaconTokens

    init(_ dependencies: APIDependencies) {
        self.dependencies = dependencies
        let keys = dependencies.http.webhookSecrets.compactMap(WebhookVerifier.key(fromSecret:))
        webhooks = WebhookVerifier(secrets: keys, tolerance: dependencies.http.webhookTolerance)
        // Without a configured secret, beacon tokens are signed with a key of this process:
        // they stop working at a restart.
        beacons = BeaconTokens(key: keys.first ?? SymmetricKey(size: .bits256), lifetime: dependencies.http.beaconLifetime)
    }

    var store: MemoryStore { dependencies.store }
    var maxBody: Int { dependencies.http.maxBody }
    var defaultIdleTimeout: Int64 { store.configuration.defaultIdleTimeoutSeconds }

    func session(_ session: Session, memoryCount: Int? = nil) -> JSONValue {
        Representation.session(session, defaultIdleTimeout: defaultIdleTimeout, memoryCount: memoryCount)
    }

    /// A session by id that the caller may see, else 404.
    func visibleSession(_ id: String, context: APIRequestContext, scope: Scope) async throws -> Session {
        guard let session = try await store.session(id: id) else { throw APIError.notFound("session \(id)") }
        try context.principal.authorize(scope, agent: session.agentID, notFound: APIError.notFound("session \(id)"))
        return session
    }

    /// An agent named in the request: a key outside its pattern is refused outright.
    func authorize(_ scope: Scope, agent: String, context: APIRequestContext) throws {
        try Validation.agentID(agent)
        try context.principal.authorize(
            scope, agent: agent,
            notFound: APIError(.forbidden, code: "NAMESPACE_ACCESS_DENIED", "this API key may not act for agent \(agent)"))
    }

    /// Tells the orphan sweep about a deadline this request set.
    func noteActivity(_ session: Session?) {
        if let deadline = session?.idleDeadlineAt { dependencies.scheduler.noteIdleDeadline(deadline) }
    }
}
