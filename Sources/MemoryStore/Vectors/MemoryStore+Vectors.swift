import Foundation
import GRDB

/// How far the store's vectors are from complete for one model.
public struct EmbeddingBacklog: Sendable, Equatable {
    /// Memories with no vector (new, or content changed).
    public var queued: Int
    /// Memories whose vector is of another model.
    public var stale: Int
    /// Memories with a vector of this model.
    public var current: Int
    public var total: Int { queued + stale }

    public init(queued: Int, stale: Int, current: Int) {
        self.queued = queued
        self.stale = stale
        self.current = current
    }
}

extension MemoryStore {
    /// Up to `limit` memories that need a vector of `model`: queued ones first (new or changed
    /// content), then those with a vector of another model. Expired memories are left to purge.
    /// With `agent`, only that agent's queued memories (what recall embeds before it ranks).
    public func memoriesToEmbed(model: EmbeddingModel, limit: Int, agent: String? = nil) async throws -> [EmbeddingTask] {
        let now = clock.now()
        if case .postgres(let postgres) = engine {
            return try await postgres.memoriesToEmbed(model: model, limit: limit, agent: agent, now: now)
        }
        // One agent's queue by its index (`:agent IS NULL OR …` would scan the whole queue).
        return try await read { db in
            var tasks = try Self.embeddingTasks(
                db,
                sql: """
                    SELECT memories.id, memories.agent_id, memories.content FROM embed_queue
                    JOIN memories ON memories.id = embed_queue.memory_id
                    WHERE \(visibleMemory) \(agent == nil ? "" : "AND embed_queue.agent_id = :agent")
                    ORDER BY embed_queue.memory_id LIMIT :limit
                    """,
                arguments: ["now": now, "limit": limit, "agent": agent])
            if tasks.count < limit, agent == nil {
                // Two ranges instead of `<>`, so the model index answers.
                tasks += try Self.embeddingTasks(
                    db,
                    sql: """
                        SELECT memories.id, memories.agent_id, memories.content FROM memory_vectors
                        JOIN memories ON memories.id = memory_vectors.memory_id
                        WHERE (memory_vectors.model < :model OR memory_vectors.model > :model
                            OR memory_vectors.dimensions <> :dimensions) AND \(visibleMemory)
                        LIMIT :limit
                        """,
                    arguments: ["model": model.name, "dimensions": model.dimensions, "now": now, "limit": limit - tasks.count])
            }
            return tasks
        }
    }

    static func embeddingTasks(_ db: Database, sql: String, arguments: StatementArguments) throws -> [EmbeddingTask] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map {
            EmbeddingTask(memoryID: $0[0], agentID: $0[1], content: $0[2])
        }
    }

    /// Stores the vectors of `model` for the tasks whose memory still has the content that was
    /// embedded (an update in the meantime re-queued it; a delete dropped it), and takes them off
    /// the queue. Returns how many were stored.
    public func storeVectors(_ vectors: [(task: EmbeddingTask, vector: [Float])], model: EmbeddingModel) async throws -> Int {
        for (task, vector) in vectors where vector.count != model.dimensions {
            throw StoreError.invalidArgument(
                field: "vector", reason: "of memory \(task.memoryID) has \(vector.count) dimensions, the model \(model) has \(model.dimensions)")
        }
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.storeVectors(vectors, model: model, now: now) }
        return try await transaction { db in
            var stored = 0
            for (task, vector) in vectors {
                let current = try String.fetchOne(
                    db, sql: "SELECT content FROM memories WHERE id = ?", arguments: [task.memoryID])
                guard current == task.content else { continue }
                try Self.insertVector(db, memoryID: task.memoryID, agentID: task.agentID, model: model, vector: vector, now: now)
                stored += 1
            }
            return stored
        }
    }

    /// Replaces a memory's vector and takes the memory off the queue.
    static func insertVector(
        _ db: Database, memoryID: String, agentID: String, model: EmbeddingModel, vector: [Float], now: UnixMillis
    ) throws {
        // Delete, then insert (not REPLACE): the delete trigger must count it for the caches.
        try db.cachedStatement(sql: "DELETE FROM memory_vectors WHERE memory_id = ?").execute(arguments: [memoryID])
        try db.cachedStatement(
            sql: """
                INSERT INTO memory_vectors (memory_id, agent_id, model, dimensions, vector, embedded_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [memoryID, agentID, model.name, model.dimensions, Data(VectorCoding.blob(vector)), now])
        try db.cachedStatement(sql: "DELETE FROM embed_queue WHERE memory_id = ?").execute(arguments: [memoryID])
    }

    public func embeddingBacklog(model: EmbeddingModel) async throws -> EmbeddingBacklog {
        let now = clock.now()
        if case .postgres(let postgres) = engine { return try await postgres.embeddingBacklog(model: model, now: now) }
        return try await read { db in
            let queued = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM embed_queue JOIN memories ON memories.id = embed_queue.memory_id WHERE \(visibleMemory)",
                arguments: ["now": now]) ?? 0
            let stale = try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM memory_vectors
                    WHERE model < :model OR model > :model OR dimensions <> :dimensions
                    """,
                arguments: ["model": model.name, "dimensions": model.dimensions]) ?? 0
            let current = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM memory_vectors WHERE model = :model AND dimensions = :dimensions",
                arguments: ["model": model.name, "dimensions": model.dimensions]) ?? 0
            return EmbeddingBacklog(queued: queued, stale: stale, current: current)
        }
    }

    /// The vector of one memory, if it has one of `model`.
    public func vector(memoryID: String, model: EmbeddingModel) async throws -> [Float]? {
        if case .postgres(let postgres) = engine { return try await postgres.vector(memoryID: memoryID, model: model) }
        return try await read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT vector FROM memory_vectors WHERE memory_id = ? AND model = ? AND dimensions = ?",
                arguments: [memoryID, model.name, model.dimensions])
            else { return nil }
            var floats: [Float] = []
            try row.withUnsafeData(atIndex: 0) { data in data?.withUnsafeBytes { VectorCoding.append(blob: $0, to: &floats) } }
            return floats
        }
    }
}
