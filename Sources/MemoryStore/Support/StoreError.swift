/// Errors of the store, typed so that the CLI and the HTTP API can map them to exit codes and
/// status codes, and worded so that an operator can act on them.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A value supplied by a caller is not acceptable; `field` names it.
    case invalidArgument(field: String, reason: String)
    case sessionNotFound(String)
    case memoryNotFound(String)
    /// A `supersedes` id that is not a visible memory of the storing agent (other agents'
    /// memories are reported alike, so their ids are not confirmed).
    case supersededNotFound(id: String, agentID: String)
    /// No consolidation, summary or consolidated source has this id.
    case consolidationNotFound(String)
    /// The memory exists but is not a consolidation summary, or its sources are gone.
    case notRestorable(id: String, reason: String)
    case alreadyExists(kind: String, id: String)
    /// SQLite could not write: the disk (or the file system's quota) is full. `newEpisode` is
    /// true for the first failure after a successful write, so the episode is logged once.
    case storageFull(path: String, newEpisode: Bool)
    /// The database refused or failed a statement for a reason of its own (PostgreSQL's message).
    case backend(String)
    /// The database cannot be reached (PostgreSQL down, restarting or refusing connections).
    /// Retrying is safe: what was refused changed nothing, and a write cut off at its commit
    /// either happened or not, as after any lost connection.
    case unavailable(String)
    /// An operation this build runs on SQLite only so far.
    case unsupported(operation: String, backend: String)

    public var description: String {
        switch self {
        case .invalidArgument(let field, let reason): "\(field) \(reason)"
        case .sessionNotFound(let id): "session not found: \(id)"
        case .memoryNotFound(let id): "memory not found: \(id)"
        case .supersededNotFound(let id, let agentID): "supersedes: memory \(id) not found among agent \(agentID)'s memories"
        case .consolidationNotFound(let id): "no consolidation, summary or consolidated memory has the id \(id)"
        case .notRestorable(let id, let reason): "cannot restore \(id): \(reason)"
        case .alreadyExists(let kind, let id): "\(kind) \(id) already exists"
        case .storageFull(let path, _): "the store's disk is full (\(path)); nothing was written"
        case .backend(let message): message
        case .unavailable(let reason): "the store cannot be reached: \(reason)"
        case .unsupported(let operation, let backend):
            "\(operation) is not available on the \(backend) store in this version of memkeepd"
        }
    }
}
