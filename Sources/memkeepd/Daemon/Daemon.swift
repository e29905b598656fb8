import HTTPAPI
import Hummingbird
import Logging
import Maintenance
import MemoryService
import MemoryStore
import Prometheus
import ServiceLifecycle
import Systemd
import UnixSignals

/// `memkeepd serve` assembled: HTTP server, scheduler, SIGHUP reloader and the shutdown
/// notifier in one ServiceGroup. SIGTERM/SIGINT shut it down gracefully in reverse order:
/// STOPPING=1 first, then the reloader, the scheduler (its running batch commits), the server.
struct Daemon {
    var group: ServiceGroup
    var scheduler: Scheduler
    var state: ServiceState
}

func buildDaemon(
    _ app: App, registry: PrometheusCollectorRegistry, hangups: UnixSignalsSequence,
    notifier: SystemdNotifier = SystemdNotifier()
) -> Daemon {
    let logger = app.logger
    let state = ServiceState(startedAt: app.clock.now())
    let scheduler = Scheduler(
        runner: app.runner, clock: app.clock, logger: logger,
        hooks: SchedulerHooks(
            status: notifier.status, watchdog: notifier.watchdog, watchdogPeriod: notifier.watchdogInterval.map { $0 / 2 }))
    let http = app.configuration.http
    let dependencies = APIDependencies(
        store: app.store, maintenance: scheduler, registry: registry, state: state, clock: app.clock, logger: logger,
        http: http, embedder: app.runner.embedder,
        recallMode: app.runner.embedder.map { .vectors(model: $0.modelID) } ?? app.configuration.embeddings.recallMode,
        mcpDefaultAgent: app.configuration.mcpDefaultAgent)
    if http.keys.isEmpty {
        logger.notice("no auth.keys configured: the API is open and listens on loopback only (\(http.host))")
    }
    let server = buildHTTPServer(dependencies) { port in
        state.markReady()
        logger.notice(
            "memkeepd started: store \(app.store.path), listening on \(http.host):\(port)",
            metadata: [LogKey.messageID: .string(MessageID.daemonStarted)])
        notifier.ready(status: scheduler.statusLine)
    }
    let reloader = ConfigurationReloader(
        path: app.configurationPath, inForce: app.configuration, hangups: hangups, scheduler: scheduler, state: state,
        notifier: notifier, clock: app.clock, logger: logger)
    let stopping = ShutdownNotifier(state: state, notifier: notifier, logger: logger)
    var configuration = ServiceGroupConfiguration(
        services: [server, scheduler, reloader, stopping], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = app.configuration.shutdownGrace
    return Daemon(group: ServiceGroup(configuration: configuration), scheduler: scheduler, state: state)
}

/// Waits for graceful shutdown, then tells systemd and the health routes before the other
/// services start draining.
struct ShutdownNotifier: Service {
    let state: ServiceState
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        state.markStopping()
        notifier.stopping()
        logger.notice(
            "memkeepd stopping: no new job runs; a running one ends after its current batch", metadata: [LogKey.messageID: .string(MessageID.daemonStopping)])
    }
}
