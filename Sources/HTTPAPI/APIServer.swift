import Hummingbird
import Logging
import Maintenance
import MemoryStore
import Prometheus

/// What the routes need, passed in: the store, the scheduler, the metrics registry, the clock.
public struct APIDependencies: Sendable {
    public static let version = "0.3.0"

    public var store: MemoryStore
    public var scheduler: Scheduler
    public var registry: PrometheusCollectorRegistry
    public var state: ServiceState
    public var clock: any WallClock
    public var logger: Logger

    public init(
        store: MemoryStore, scheduler: Scheduler, registry: PrometheusCollectorRegistry, state: ServiceState,
        clock: any WallClock, logger: Logger
    ) {
        self.store = store
        self.scheduler = scheduler
        self.registry = registry
        self.state = state
        self.clock = clock
        self.logger = logger
    }
}

public func buildRouter(_ dependencies: APIDependencies) -> Router<BasicRequestContext> {
    let router = Router()
    OperationsRoutes(dependencies: dependencies).add(to: router)
    return router
}

/// The HTTP server as a `Service` for the daemon's ServiceGroup. `onRunning` fires once the
/// listener is bound, with the bound port (useful with `:0`).
public func buildHTTPServer(
    _ dependencies: APIDependencies, configuration: HTTPConfiguration,
    onRunning: @escaping @Sendable (Int) async -> Void
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "memkeepd"),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
        logger: dependencies.logger)
}
