import NIOCore
import PostgresNIO

extension PostgresEngine {
    func memoriesToEmbed(model: EmbeddingModel, limit: Int, agent: String?, now: UnixMillis) async throws -> [EmbeddingTask] {
        try await autocommit { connection in
            var tasks = try await self.embeddingTasks(
                connection.query(
                    """
                    SELECT memories.id, memories.agent_id, memories.content FROM embed_queue
                    JOIN memories ON memories.id = embed_queue.memory_id
                    WHERE (memories.expires_at IS NULL OR memories.expires_at > \(now))
                      AND (\(agent)::text IS NULL OR embed_queue.agent_id = \(agent))
                    ORDER BY embed_queue.memory_id LIMIT \(limit)
                    """, logger: self.logger))
            if tasks.count < limit, agent == nil {
                tasks += try await self.embeddingTasks(
                    connection.query(
                        """
                        SELECT memories.id, memories.agent_id, memories.content FROM memory_vectors
                        JOIN memories ON memories.id = memory_vectors.memory_id
                        WHERE (memory_vectors.model <> \(model.name) OR memory_vectors.dimensions <> \(Int32(model.dimensions)))
                          AND (memories.expires_at IS NULL OR memories.expires_at > \(now))
                        LIMIT \(limit - tasks.count)
                        """, logger: self.logger))
            }
            return tasks
        }
    }

    private func embeddingTasks(_ rows: PostgresRowSequence) async throws -> [EmbeddingTask] {
        var tasks: [EmbeddingTask] = []
        for try await (id, agentID, content) in rows.decode((String, String, String).self) {
            tasks.append(EmbeddingTask(memoryID: id, agentID: agentID, content: content))
        }
        return tasks
    }

    func storeVectors(_ vectors: [(task: EmbeddingTask, vector: [Float])], model: EmbeddingModel, now: UnixMillis)
        async throws -> Int
    {
        try await transaction { connection in
            var stored = 0
            for (task, vector) in vectors {
                // FOR UPDATE: an update of the content between this check and the insert would
                // otherwise keep a vector of the old text.
                let current = try await connection.query(
                    "SELECT content FROM memories WHERE id = \(task.memoryID) FOR UPDATE", logger: self.logger
                ).scalar(String.self)
                guard current == task.content else { continue }
                try await self.insertVector(
                    memoryID: task.memoryID, agentID: task.agentID, model: model, vector: vector, now: now, on: connection)
                stored += 1
            }
            return stored
        }
    }

    func embeddingBacklog(model: EmbeddingModel, now: UnixMillis) async throws -> EmbeddingBacklog {
        try await autocommit { connection in
            let (queued, stale, current) = try await connection.query(
                """
                SELECT
                    (SELECT count(*) FROM embed_queue JOIN memories ON memories.id = embed_queue.memory_id
                        WHERE memories.expires_at IS NULL OR memories.expires_at > \(now)),
                    (SELECT count(*) FROM memory_vectors
                        WHERE model <> \(model.name) OR dimensions <> \(Int32(model.dimensions))),
                    (SELECT count(*) FROM memory_vectors
                        WHERE model = \(model.name) AND dimensions = \(Int32(model.dimensions)))
                """, logger: self.logger
            ).decode((Int64, Int64, Int64).self).first { _ in true }!
            return EmbeddingBacklog(queued: Int(queued), stale: Int(stale), current: Int(current))
        }
    }

    func vector(memoryID: String, model: EmbeddingModel) async throws -> [Float]? {
        try await autocommit { connection in
            guard
                let blob = try await connection.query(
                    """
                    SELECT vector FROM memory_vectors
                    WHERE memory_id = \(memoryID) AND model = \(model.name) AND dimensions = \(Int32(model.dimensions))
                    """, logger: self.logger
                ).scalar(ByteBuffer.self)
            else { return nil }
            var floats: [Float] = []
            blob.withUnsafeReadableBytes { VectorCoding.append(blob: $0, to: &floats) }
            return floats
        }
    }
}
