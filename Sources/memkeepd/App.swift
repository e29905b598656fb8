import Foundation
import CoreMetrics
import Logging
import Maintenance
import MemoryStore
import Systemd

/// The assembled application: configuration, store, logger and job runner. Built the same way
/// by every command (and so by the subprocess tests).
struct App: Sendable {
    var configuration: AppConfiguration
    var configurationPath: String?
    var store: MemoryStore
    var logger: Logger
    var runner: JobRunner
    var clock: any WallClock
}

/// Assembles the app from a configuration file (or the default), a clock and a metrics factory.
/// `withEmbedder`: commands that embed (serve, run) load the model; the others stay light.
func buildApp(
    configPath: String?, clock: any WallClock = SystemClock(), environment: [String: String]? = nil,
    metrics: any MetricsFactory = NOOPMetricsHandler.instance, access: MemoryStore.Access = .readWrite,
    withEmbedder: Bool = false
) throws -> App {
    let configuration =
        try environment.map { try ConfigurationLoader.load(path: configPath, environment: $0) }
        ?? ConfigurationLoader.load(path: configPath)
    let logger = Logger(
        label: "memkeepd", factory: configuration.logTarget.handlerFactory(level: configuration.logLevel))
    let store: MemoryStore
    do {
        store = try MemoryStore(
            path: configuration.storePath, configuration: configuration.store, clock: clock, access: access)
    } catch {
        throw StoreOpenError(path: configuration.storePath, underlying: "\(error)")
    }
    let embedder =
        withEmbedder
        ? try configuration.embeddings.makeEmbedder(logger: logger, environment: environment ?? ProcessInfo.processInfo.environment)
        : nil
    let summarizer: (any Summarizer)? =
        configuration.maintenance.consolidation.summarizer == .llm
        ? try configuration.llm.makeSummarizer(
            maxSummaryCharacters: configuration.maintenance.consolidation.maxSummaryCharacters,
            environment: environment ?? ProcessInfo.processInfo.environment, clock: clock, metrics: metrics)
        : nil
    let runner = JobRunner(
        store: store, configuration: configuration.maintenance, logger: logger, summarizer: summarizer,
        embedder: embedder, metrics: JobMetrics(factory: metrics))
    return App(
        configuration: configuration, configurationPath: configPath, store: store, logger: logger, runner: runner,
        clock: clock)
}

struct StoreOpenError: Error, CustomStringConvertible {
    var path: String
    var underlying: String
    var description: String { "cannot open the store at \(path): \(underlying)" }
}
