import HTTPAPI
import Logging
import Maintenance
import MemoryStore
import ServiceLifecycle
import Systemd
import UnixSignals

/// SIGHUP: re-reads and validates the configuration. A valid file replaces the maintenance
/// settings at once; an invalid one is logged with its key and line and the old one stays.
/// Either way systemd hears RELOADING=1 then READY=1.
struct ConfigurationReloader: Service {
    let path: String?
    let inForce: AppConfiguration
    let hangups: UnixSignalsSequence
    let scheduler: Scheduler
    let state: ServiceState
    let notifier: SystemdNotifier
    let clock: any WallClock
    let logger: Logger

    func run() async throws {
        var inForce = inForce
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.reloading()
            do {
                let loaded = try ConfigurationLoader.load(path: path)
                scheduler.update(configuration: loaded.maintenance)
                let pending = inForce.keysNeedingRestart(comparedWith: loaded)
                inForce.maintenance = loaded.maintenance
                state.configurationReloaded(at: clock.now())
                logger.notice(
                    "configuration reloaded from \(ConfigurationLoader.resolvedPath(path) ?? "the built-in defaults")",
                    metadata: [
                        LogKey.messageID: .string(MessageID.configurationReloaded),
                        LogKey.configGeneration: .stringConvertible(state.configuration.generation),
                    ])
                if !pending.isEmpty {
                    logger.warning(
                        "changed keys that take effect at the next restart: \(pending.joined(separator: ", "))")
                }
            } catch {
                logger.error(
                    "configuration rejected, the previous one stays in force: \(error)",
                    metadata: [LogKey.messageID: .string(MessageID.configurationRejected)])
            }
            notifier.ready(status: scheduler.statusLine)
        }
    }
}

extension AppConfiguration {
    /// Keys a reload cannot apply: the open store, the bound listener, the logger.
    func keysNeedingRestart(comparedWith new: AppConfiguration) -> [String] {
        var keys: [String] = []
        if storeLocation != new.storeLocation || storePasswordFile != new.storePasswordFile { keys.append("store.url") }
        if store.connections != new.store.connections { keys.append("store.connections") }
        if store.busyTimeout != new.store.busyTimeout { keys.append("store.busy_timeout") }
        if store.readers != new.store.readers { keys.append("store.readers") }
        if store.defaultIdleTimeoutSeconds != new.store.defaultIdleTimeoutSeconds { keys.append("sessions.idle_timeout") }
        if http.host != new.http.host || http.port != new.http.port { keys.append("http.listen") }
        if http.maxBody != new.http.maxBody { keys.append("http.max_body") }
        if http.maxConnections != new.http.maxConnections { keys.append("http.max_connections") }
        if http.idleTimeout != new.http.idleTimeout { keys.append("http.idle_timeout") }
        if http.limits != new.http.limits { keys.append("http.header_timeout/body_timeout") }
        if http.keys != new.http.keys { keys.append("auth.keys") }
        if http.webhookSecrets != new.http.webhookSecrets { keys.append("webhooks.secrets") }
        if http.beaconLifetime != new.http.beaconLifetime { keys.append("webhooks.beacon_ttl") }
        if http.recall != new.http.recall { keys.append("recall") }
        if shutdownGrace != new.shutdownGrace { keys.append("shutdown.grace") }
        if logLevel != new.logLevel { keys.append("log.level") }
        if logTarget != new.logTarget { keys.append("log.target") }
        if embeddings != new.embeddings { keys.append("embeddings") }
        // The summarizer is built at start: its breaker's state lives across runs.
        if llm != new.llm { keys.append("llm") }
        if maintenance.consolidation.summarizer != new.maintenance.consolidation.summarizer {
            keys.append("consolidation.summarizer")
        }
        return keys
    }
}
