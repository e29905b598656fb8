import HTTPAPI
import Logging
import Maintenance
import MemoryStore
import Systemd

/// The whole validated configuration of memkeepd.
struct AppConfiguration: Sendable, Equatable {
    /// `store.path`: the SQLite file (or any store location, as an alias of `store.url`).
    var storePath = StoreLocation.sqlite(path: "./var/memkeep.db")
    /// `store.url`, which wins over `store.path` wherever each is set: the units set
    /// `MEMKEEP_STORE_PATH`, and a `store.url` in the file must still reach PostgreSQL.
    var storeURL: StoreLocation?
    /// The store memkeepd opens.
    var storeLocation: StoreLocation { storeURL ?? storePath }
    /// PostgreSQL's password: a file (relative names are looked up in `$CREDENTIALS_DIRECTORY`
    /// first); unset: the credential `store-password` when it exists.
    var storePasswordFile: String?
    var store = StoreConfiguration()
    var maintenance = MaintenanceConfiguration()
    var http = HTTPConfiguration()
    var embeddings = EmbeddingsConfiguration()
    var llm = LLMConfiguration()
    /// How long SIGTERM waits for the running batch to commit before cancelling.
    var shutdownGrace: Duration = .seconds(10)
    /// The agent an MCP tool call means when it names none; nil: a key limited to one agent
    /// means that agent, else calls must name one.
    var mcpDefaultAgent: String?
    var logLevel = Logger.Level.info
    var logTarget = LogTarget.auto

    /// Where the file comes from when `--config` is not given.
    static let defaultPath = "config/memkeep.yaml"

    /// Relative paths of the configuration (the SQLite file, the model's directory, the purge
    /// export directory) resolved against the service's state directory: systemd's
    /// `StateDirectory=` sets `$STATE_DIRECTORY` (the first of a colon-separated list counts).
    /// Without it they stay relative to the working directory, as for `memkeepd serve` run by
    /// hand from a checkout.
    func resolvingPaths(environment: [String: String]) -> AppConfiguration {
        guard let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first.map(String.init), !state.isEmpty
        else { return self }
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : state + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
        }
        var resolved = self
        if case .sqlite(let path) = storePath { resolved.storePath = .sqlite(path: resolve(path)) }
        if case .sqlite(let path)? = storeURL { resolved.storeURL = .sqlite(path: resolve(path)) }
        resolved.embeddings.modelDirectory = resolve(embeddings.modelDirectory)
        resolved.maintenance.purge.exportDirectory = maintenance.purge.exportDirectory.map(resolve)
        return resolved
    }
}

struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The file or environment variable the bad value came from.
    var source: String
    var line: Int?
    var key: String
    var reason: String

    var description: String {
        let location = line.map { "\(source):\($0)" } ?? source
        return key.isEmpty ? "\(location): \(reason)" : "\(location): \(key): \(reason)"
    }
}
