import Foundation
import GRDB
import Synchronization

/// The vectors of recently recalled agents, in memory, bounded in bytes (least recently used
/// out first). An agent's copy is checked against `vector_generations` on every use: unchanged,
/// it is used as is; only inserts since, they are appended; any delete, it is reloaded.
final class VectorCache: Sendable {
    /// One agent's vectors of one model: row i of `matrix` is the vector of `ids[i]`.
    final class Snapshot: Sendable {
        let ids: [String]
        /// Row of each id.
        let index: [String: Int]
        let matrix: [Float]
        let dimensions: Int
        let inserted: Int64
        let deleted: Int64
        let maxRowID: Int64

        init(ids: [String], matrix: [Float], dimensions: Int, inserted: Int64, deleted: Int64, maxRowID: Int64) {
            self.ids = ids
            self.index = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            self.matrix = matrix
            self.dimensions = dimensions
            self.inserted = inserted
            self.deleted = deleted
            self.maxRowID = maxRowID
        }

        var bytes: Int { matrix.count * 4 + ids.count * 96 }

        /// Cosine similarity (the vectors are unit length) of `query` with every row.
        func similarities(to query: [Float]) -> [Float] {
            let d = dimensions
            var scores = [Float](repeating: 0, count: ids.count)
            guard query.count == d else { return scores }
            matrix.withUnsafeBufferPointer { matrix in
                query.withUnsafeBufferPointer { query in
                    let wide = d / 16 * 16
                    for row in 0..<ids.count {
                        let base = matrix.baseAddress! + row * d
                        var sum = SIMD16<Float>()
                        var i = 0
                        while i < wide {
                            let a = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
                            let b = UnsafeRawPointer(query.baseAddress! + i).loadUnaligned(as: SIMD16<Float>.self)
                            // Not addingProduct: on Linux it lowers to a libm fmaf call per lane.
                            sum += a * b
                            i += 16
                        }
                        var total = sum.sum()
                        while i < d {
                            total += base[i] * query[i]
                            i += 1
                        }
                        scores[row] = total
                    }
                }
            }
            return scores
        }
    }

    struct Key: Hashable {
        var agent: String
        var model: EmbeddingModel
    }

    struct State {
        var entries: [Key: (snapshot: Snapshot, lastUse: UInt64)] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacityBytes: Int) {
        capacity = capacityBytes
    }

    var residentBytes: Int { state.withLock { $0.bytes } }

    /// The agent's current vectors of `model`, read through the cache.
    func snapshot(_ db: Database, agent: String, model: EmbeddingModel) throws -> Snapshot {
        let key = Key(agent: agent, model: model)
        let generation = try Row.fetchOne(
            db, sql: "SELECT inserted, deleted FROM vector_generations WHERE agent_id = ?", arguments: [agent])
        let inserted: Int64 = generation?["inserted"] ?? 0
        let deleted: Int64 = generation?["deleted"] ?? 0
        let cached = state.withLock { state -> Snapshot? in
            state.tick += 1
            guard let entry = state.entries[key] else { return nil }
            state.entries[key]?.lastUse = state.tick
            return entry.snapshot
        }
        let fresh: Snapshot
        if let cached, cached.inserted == inserted, cached.deleted == deleted {
            return cached
        } else if let cached, cached.deleted == deleted {
            fresh = try load(db, key: key, after: cached, inserted: inserted, deleted: deleted)
        } else {
            fresh = try load(db, key: key, after: nil, inserted: inserted, deleted: deleted)
        }
        store(fresh, key: key)
        return fresh
    }

    private func load(_ db: Database, key: Key, after base: Snapshot?, inserted: Int64, deleted: Int64) throws -> Snapshot {
        var ids = base?.ids ?? []
        var matrix = base?.matrix ?? []
        var maxRowID = base?.maxRowID ?? 0
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT rowid, memory_id, vector FROM memory_vectors
                WHERE agent_id = ? AND model = ? AND dimensions = ? AND rowid > ? ORDER BY rowid
                """,
            arguments: [key.agent, key.model.name, key.model.dimensions, maxRowID])
        while let row = try rows.next() {
            maxRowID = max(maxRowID, row["rowid"])
            ids.append(row["memory_id"])
            try row.withUnsafeData(atIndex: 2) { data in data?.withUnsafeBytes { VectorCoding.append(blob: $0, to: &matrix) } }
        }
        return Snapshot(
            ids: ids, matrix: matrix, dimensions: key.model.dimensions, inserted: inserted, deleted: deleted, maxRowID: maxRowID)
    }

    private func store(_ snapshot: Snapshot, key: Key) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.snapshot.bytes }
            guard snapshot.bytes <= capacity else { return }
            state.tick += 1
            state.entries[key] = (snapshot, state.tick)
            state.bytes += snapshot.bytes
            while state.bytes > capacity, let victim = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries.removeValue(forKey: victim.key)
                state.bytes -= victim.value.snapshot.bytes
            }
        }
    }
}
