import ArgumentParser
import Prometheus
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: job scheduler, HTTP API, systemd notifications and watchdog.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        // Trapped before anything else: SIGHUP's default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let registry = PrometheusCollectorRegistry()
        try await withApp(options, metrics: PrometheusMetricsFactory(registry: registry), withEmbedder: true) { app in
            var app = app
            let configured = app.configuration.http.maxConnections
            do {
                app.configuration.http.maxConnections = try FileDescriptorLimit.connections(fitting: configured)
            } catch {
                printError("memkeepd: bad configuration: \(error)")
                throw Exit.badConfiguration
            }
            if app.configuration.http.maxConnections < configured {
                app.logger.warning(
                    "http.max_connections lowered from \(configured) to \(app.configuration.http.maxConnections) to fit the open-file limit; raise LimitNOFILE= for more")
            }
            let daemon = buildDaemon(app, registry: registry, hangups: hangups)
            do {
                try await daemon.group.run()
            } catch {
                app.logger.critical("memkeepd stopped on an error: \(error)")
                throw Exit.jobFailed
            }
        }
    }
}
