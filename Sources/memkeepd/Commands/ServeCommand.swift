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
        let app = try makeApp(options, metrics: PrometheusMetricsFactory(registry: registry))
        do {
            try FileDescriptorLimit.ensure(connections: app.configuration.http.maxConnections)
        } catch {
            printError("memkeepd: bad configuration: \(error)")
            throw Exit.badConfiguration
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
