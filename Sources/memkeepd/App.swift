import Embeddings
import Foundation
import CoreMetrics
import Logging
import Maintenance
import MemoryStore
import Synchronization
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

/// Assembles the app from a configuration file (or the default), a clock and a metrics factory,
/// for the duration of `body`: a PostgreSQL store's connection pool runs while `body` does.
/// `withEmbedder`: commands that embed (serve, run) load the model; the others stay light.
/// Errors of the assembly come as `AppSetupError`; `body`'s own pass through unchanged.
func withApp<T: Sendable>(
    configPath: String?, clock: any WallClock = SystemClock(), environment: [String: String]? = nil,
    metrics: any MetricsFactory = NOOPMetricsHandler.instance, access: MemoryStore.Access = .readWrite,
    withEmbedder: Bool = false, _ body: @Sendable (App) async throws -> T
) async throws -> T {
    let environment = environment ?? ProcessInfo.processInfo.environment
    let configuration: AppConfiguration
    do {
        configuration = try ConfigurationLoader.load(path: configPath, environment: environment)
    } catch {
        throw AppSetupError.configuration("\(error)")
    }
    let logger = Logger(
        label: "memkeepd", factory: configuration.logTarget.handlerFactory(level: configuration.logLevel))
    let location = try configuration.storeLocationWithPassword(environment: environment)
    let opened = Mutex(false)
    do {
        return try await MemoryStore.withStore(
            at: location, configuration: configuration.store, clock: clock, access: access, logger: logger
        ) { store in
            opened.withLock { $0 = true }
            let app = try assemble(
                configuration: configuration, configPath: configPath, store: store, logger: logger, clock: clock,
                environment: environment, metrics: metrics, withEmbedder: withEmbedder)
            return try await body(app)
        }
    } catch where !opened.withLock({ $0 }) {
        throw AppSetupError.store(location: "\(location)", reason: "\(error)")
    }
}

private func assemble(
    configuration: AppConfiguration, configPath: String?, store: MemoryStore, logger: Logger, clock: any WallClock,
    environment: [String: String], metrics: any MetricsFactory, withEmbedder: Bool
) throws -> App {
    let embedder: (any TextEmbedder)?
    let summarizer: (any Summarizer)?
    do {
        embedder = withEmbedder ? try configuration.embeddings.makeEmbedder(logger: logger, environment: environment) : nil
        summarizer =
            configuration.maintenance.consolidation.summarizer == .llm
            ? try configuration.llm.makeSummarizer(
                maxSummaryCharacters: configuration.maintenance.consolidation.maxSummaryCharacters,
                environment: environment, clock: clock, metrics: metrics)
            : nil
    } catch let error as ProviderSetupError {
        throw AppSetupError.configuration("\(error)")
    } catch {
        throw AppSetupError.failed("\(error)")
    }
    let runner = JobRunner(
        store: store, configuration: configuration.maintenance, logger: logger, summarizer: summarizer,
        embedder: embedder, metrics: JobMetrics(factory: metrics))
    return App(
        configuration: configuration, configurationPath: configPath, store: store, logger: logger, runner: runner,
        clock: clock)
}

/// Why the app could not be assembled: a bad configuration (exit 78), or a store or model that
/// cannot be opened (exit 1).
enum AppSetupError: Error, CustomStringConvertible {
    case configuration(String)
    case store(location: String, reason: String)
    case failed(String)

    var description: String {
        switch self {
        case .configuration(let reason): reason
        case .store(let location, let reason): "cannot open the store at \(location): \(reason)"
        case .failed(let reason): reason
        }
    }
}

extension AppConfiguration {
    /// The store location with PostgreSQL's password read from its file or credential.
    func storeLocationWithPassword(environment: [String: String]) throws -> StoreLocation {
        guard case .postgres(var postgres) = storeLocation else { return storeLocation }
        do {
            postgres.password = try Credential.read(
                file: storePasswordFile, key: "store.password_file", credential: "store-password",
                environment: environment)
        } catch {
            throw AppSetupError.configuration("\(error)")
        }
        return .postgres(postgres)
    }
}
