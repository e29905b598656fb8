import Embeddings
import Logging
import MemoryStore

/// What the service tells the maintenance scheduler, which the front ends never see:
/// memkeepd wires it to the scheduler, or to nothing in a process that runs none.
public protocol MaintenanceNotes: Sendable {
    /// New memories were stored: the embed job has work.
    func noteNewMemories()
    /// A session's idle deadline moved: the orphan sweep may need to wake earlier.
    func noteIdleDeadline(_ deadline: UnixMillis)
}

/// What the admin and operations routes need from the scheduler besides the notes.
public protocol MaintenanceControl: MaintenanceNotes {
    /// The jobs an admin may run, by name.
    var jobNames: [String] { get }
    /// Runs a job now for an admin request; `agent`: consolidate that agent whatever the thresholds.
    func runNow(job: String, dryRun: Bool, agent: String?) async -> MaintenanceRun
    /// One line on the scheduler's state, for the health answer.
    var statusLine: String { get }
    /// How often the scheduler's loops woke up, for the metrics.
    var wakeUps: Int { get }
}

/// A job run as the front ends report it.
public struct MaintenanceRun: Sendable {
    public enum Outcome: Sendable, Equatable {
        case ok
        /// Another process holds the job's lease.
        case heldElsewhere(by: String)
        case failed(String)
    }

    public var job: String
    public var outcome: Outcome
    /// The run's report in the API's shape (snake_case fields).
    public var report: [String: JSONValue]

    public init(job: String, outcome: Outcome, report: [String: JSONValue]) {
        self.job = job
        self.outcome = outcome
        self.report = report
    }
}

/// What every front end (HTTP, MCP) shares: validation, tenancy, recall orchestration and the
/// context block. Requests come in as `JSONBody`, answers go out as `JSONValue` in Dakera's
/// shapes, errors as `APIError`, so a bad argument reads the same over every front end.
public struct MemoryService: Sendable {
    public var store: MemoryStore
    public var maintenance: any MaintenanceNotes
    /// Embeds recall queries; nil: lexical recall only.
    public var embedder: (any TextEmbedder)?
    public var recallWeights: RecallWeights
    public var clock: any WallClock
    let queryVectors = QueryVectorCache()

    public init(
        store: MemoryStore, maintenance: any MaintenanceNotes, embedder: (any TextEmbedder)?,
        recallWeights: RecallWeights, clock: any WallClock
    ) {
        self.store = store
        self.maintenance = maintenance
        self.embedder = embedder
        self.recallWeights = recallWeights
        self.clock = clock
    }

    var defaultIdleTimeout: Int64 { store.configuration.defaultIdleTimeoutSeconds }

    public func session(_ session: Session, memoryCount: Int? = nil) -> JSONValue {
        Representation.session(session, defaultIdleTimeout: defaultIdleTimeout, memoryCount: memoryCount)
    }

    /// A session by id that the caller may see, else 404.
    public func visibleSession(_ id: String, principal: Principal, scope: Scope) async throws -> Session {
        guard let session = try await store.session(id: id) else { throw APIError.notFound("session \(id)") }
        try principal.authorize(scope, agent: session.agentID, notFound: APIError.notFound("session \(id)"))
        return session
    }

    /// A memory by id that the caller may see (and of `agent` when given), else 404.
    public func visibleMemory(_ id: String, agent: String? = nil, principal: Principal, scope: Scope) async throws -> Memory {
        guard let memory = try await store.memory(id: id), agent == nil || agent == memory.agentID else {
            throw APIError.notFound("memory \(id)")
        }
        try principal.authorize(scope, agent: memory.agentID, notFound: APIError.notFound("memory \(id)"))
        return memory
    }

    /// An agent named in the request: a key outside its pattern is refused outright.
    public func authorize(_ scope: Scope, agent: String, principal: Principal) throws {
        try Validation.agentID(agent)
        try principal.authorize(
            scope, agent: agent,
            notFound: APIError(.forbidden, code: "NAMESPACE_ACCESS_DENIED", "this API key may not act for agent \(agent)"))
    }

    /// A record id the client chose. Ids are unique across the store, so a collision with
    /// another tenant's record would tell that the record exists, and a tenant could take ids
    /// another will use. A key limited to some agents therefore may not choose ids at all; only
    /// callers that see every agent (no keys, or `agents: "*"`) may.
    func chosenID(_ body: JSONBody, principal: Principal) throws -> String? {
        guard let id = try body.optionalString("id") else { return nil }
        if let agents = principal.agents, agents.text != "*" {
            throw APIError.invalid(
                "id", "may not be chosen by a key limited to agents \"\(agents)\": leave it out and use the id in the answer")
        }
        return id
    }

    /// Tells the orphan sweep about a deadline this request set.
    public func noteActivity(_ session: Session?) {
        if let deadline = session?.idleDeadlineAt { maintenance.noteIdleDeadline(deadline) }
    }
}
