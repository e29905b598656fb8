import Foundation
import GRDB
import MemoryStore

extension Generator {
    static func scaleAgent(_ memories: Int) -> String { "bench-scale-\(memories)" }

    /// Gives the scaling run agents of about `sizes` memories each in the store at `path`, by
    /// moving whole sessions of the long tail to them (the store keeps its size), and gives
    /// their memories vectors of `model`, so recall ranks exactly as many vectors as the agent
    /// has. The vectors are seeded random unit vectors: ranking costs the same whatever they
    /// point at, and embedding 60,000 memories would take the model minutes per store. The
    /// embed queue is emptied so that `serve` measures the API alone. Returns each agent with
    /// its memory count, smallest first.
    func addScaleAgents(path: String, sizes: [Int], model: String, dimensions: Int) throws -> [(agent: String, memories: Int)] {
        let queue = try DatabaseQueue(path: path)
        var random = SeededRandom(state: seed &+ 2)
        var agents: [(agent: String, memories: Int)] = []
        try queue.write { db in
            // Whole sessions in id order; the heavy agent keeps its own.
            let sessions = try Row.fetchCursor(
                db,
                sql: """
                    SELECT session_id, count(*) FROM memories
                    WHERE agent_id NOT LIKE 'bench-heavy-%' GROUP BY session_id ORDER BY session_id
                    """)
            var moves: [(session: String, agent: String)] = []
            var pending = sizes.sorted()[...]
            var filled = 0
            while let target = pending.first, let row = try sessions.next() {
                moves.append((row[0], Self.scaleAgent(target)))
                filled += row[1] as Int
                if filled >= target {
                    agents.append((Self.scaleAgent(target), filled))
                    pending = pending.dropFirst()
                    filled = 0
                }
            }
            guard pending.isEmpty else {
                throw BenchError.missing("sessions enough for agents of \(sizes) memories in a store of \(memories)")
            }
            let moveSession = try db.makeStatement(sql: "UPDATE sessions SET agent_id = ? WHERE id = ?")
            let moveMemories = try db.makeStatement(sql: "UPDATE memories SET agent_id = ? WHERE session_id = ?")
            for move in moves {
                try moveSession.execute(arguments: [move.agent, move.session])
                try moveMemories.execute(arguments: [move.agent, move.session])
            }
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO memory_vectors (memory_id, agent_id, model, dimensions, vector, embedded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
            let ids = try Row.fetchCursor(
                db, sql: "SELECT id, agent_id FROM memories WHERE agent_id LIKE 'bench-scale-%'")
            while let row = try ids.next() {
                var vector = (0..<dimensions).map { _ in Float.random(in: -1...1, using: &random) }
                let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                vector = vector.map { $0 / norm }
                let blob = vector.withUnsafeBytes { Data($0) }
                try insert.execute(arguments: [row[0] as String, row[1] as String, model, dimensions, blob, now])
            }
            try db.execute(sql: "DELETE FROM embed_queue")
        }
        try queue.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        return agents
    }
}
