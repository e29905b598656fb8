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
