import Embeddings
import Crypto
import Hummingbird
import HummingbirdCore
import Logging
import MCPServer
import MemoryService
import MemoryStore
import Prometheus
import Synchronization

/// What the routes need, passed in: the store, the scheduler, the metrics registry, the clock.
public struct APIDependencies: Sendable {
    public static let version = "0.4.0"

    public var store: MemoryStore
    /// The maintenance scheduler, as the front ends see it.
    public var maintenance: any MaintenanceControl
    public var registry: PrometheusCollectorRegistry
    public var state: ServiceState
    public var clock: any WallClock
    public var logger: Logger
    public var http: HTTPConfiguration
    /// What HTTP shares with the other front ends.
    public var service: MemoryService
    /// The MCP server behind `/mcp`.
    public var mcp: MemoryMCP
    /// `mcp.default_agent`.
    public var mcpDefaultAgent: String?
    /// Which recall is in force (`/health`, `/metrics`).
    public var recallMode: RecallMode

    public init(
        store: MemoryStore, maintenance: any MaintenanceControl, registry: PrometheusCollectorRegistry, state: ServiceState,
        clock: any WallClock, logger: Logger, http: HTTPConfiguration, embedder: (any TextEmbedder)? = nil,
        recallMode: RecallMode? = nil, mcpDefaultAgent: String? = nil
    ) {
        self.recallMode = recallMode ?? embedder.map { .vectors(model: $0.modelID) } ?? .fullText(reason: "no embedding model")
        service = MemoryService(
            store: store, maintenance: maintenance, embedder: embedder, recallWeights: http.recall, clock: clock)
        mcp = MemoryMCP(service: service, version: Self.version, logger: logger)
        self.mcpDefaultAgent = mcpDefaultAgent
        self.store = store
        self.maintenance = maintenance
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

/// Registers routes on a router group and keeps the list, so that the list the OpenAPI test
/// checks is the one the router serves. `open` routes need no key; `authenticated` ones sit in
/// the group with the authenticator.
final class RouteRegistrar {
    private let open: RouterGroup<APIRequestContext>
    private let authenticated: RouterGroup<APIRequestContext>
    let table: RouteTable

    enum Access {
        case open, authenticated
    }

    var routes: [APIRoute] { table.routes }

    init(router: Router<APIRequestContext>, keys: [APIKey], table: RouteTable) {
        self.table = table
        open = router.group()
        authenticated = router.group().add(middleware: APIAuthenticator(keys: keys))
    }

    func on(
        _ method: HTTPRequest.Method, _ path: String, _ access: Access = .authenticated,
        _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response
    ) {
        let group = access == .open ? open : authenticated
        group.on(RouterPath(path), method: method, use: handler)
        table.add(APIRoute(method: method.rawValue, path: path))
    }
}

/// The routes served, filled in as they are registered: the middleware answers 405 with `Allow`
/// for another method on a served path (the router alone says 404, as if the path did not exist).
final class RouteTable: Sendable {
    private let entries = Mutex<[APIRoute]>([])

    var routes: [APIRoute] { entries.withLock { $0 } }

    func add(_ route: APIRoute) { entries.withLock { $0.append(route) } }

    /// The methods served on `path`, sorted; empty when no route pattern matches it. As in the
    /// router, a literal segment wins over a parameter: `/v1/sessions/start` is not a session.
    func methods(servedAt path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let matches = routes.compactMap { route -> (literals: [Bool], method: String)? in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count,
                zip(pattern, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 })
            else { return nil }
            return (pattern.map { !$0.hasPrefix("{") }, route.method)
        }
        guard let best = matches.map(\.literals).max(by: { $0.lexicographicallyPrecedes($1) { !$0 && $1 } }) else {
            return []
        }
        return Set(matches.filter { $0.literals == best }.map(\.method)).sorted()
    }
}

/// The API's router and the routes it serves.
public func buildRouter(_ dependencies: APIDependencies) -> (router: Router<APIRequestContext>, routes: [APIRoute]) {
    let router = Router(context: APIRequestContext.self)
    let table = RouteTable()
    router.add(middleware: APIMiddleware(registry: dependencies.registry, logger: dependencies.logger, routes: table))
    let registrar = RouteRegistrar(router: router, keys: dependencies.http.keys, table: table)
    let handlers = APIHandlers(dependencies)
    OperationsRoutes(dependencies: dependencies).add(to: registrar)
    handlers.addSessionRoutes(to: registrar)
    handlers.addMemoryRoutes(to: registrar)
    handlers.addAgentRoutes(to: registrar)
    handlers.addWebhookRoutes(to: registrar)
    handlers.addAdminRoutes(to: registrar)
    handlers.addMCPRoutes(to: registrar)
    return (router, registrar.routes)
}

/// The HTTP server as a `Service` for the daemon's ServiceGroup. `onRunning` fires once the
/// listener is bound, with the bound port (useful with `:0`).
public func buildHTTPServer(
    _ dependencies: APIDependencies, onRunning: @escaping @Sendable (Int) async -> Void
) -> some ApplicationProtocol {
    let configuration = dependencies.http
    let limiter = ConnectionLimiter(maximum: configuration.maxConnections, logger: dependencies.logger)
    let server = HTTPServerBuilder { responder in
        GuardedHTTP1Channel(
            inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .init(configuration.idleTimeout))),
            limiter: limiter, limits: configuration.limits)
    }
    return Application(
        router: buildRouter(dependencies).router, server: server,
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
    var service: MemoryService { dependencies.service }
}
