import Logging
import Maintenance
import MemoryStore

/// The assembled application: configuration, store, logger and job runner. Built the same way
/// by every command and by the tests.
struct App: Sendable {
    var configuration: AppConfiguration
    var store: MemoryStore
    var logger: Logger
    var runner: JobRunner
    var clock: any WallClock
}

/// Assembles the app from a configuration file (or the default) and a clock.
func buildApp(configPath: String?, clock: any WallClock = SystemClock(), environment: [String: String]? = nil) throws
    -> App
{
    let configuration =
        try environment.map { try ConfigurationLoader.load(path: configPath, environment: $0) }
        ?? ConfigurationLoader.load(path: configPath)
    let level = configuration.logLevel
    let logger = Logger(label: "memkeepd") { label in StderrLogHandler(label: label, level: level) }
    let store: MemoryStore
    do {
        store = try MemoryStore(path: configuration.storePath, configuration: configuration.store, clock: clock)
    } catch {
        throw StoreOpenError(path: configuration.storePath, underlying: "\(error)")
    }
    let runner = JobRunner(store: store, configuration: configuration.maintenance, logger: logger)
    return App(configuration: configuration, store: store, logger: logger, runner: runner, clock: clock)
}

struct StoreOpenError: Error, CustomStringConvertible {
    var path: String
    var underlying: String
    var description: String { "cannot open the store at \(path): \(underlying)" }
}
