import Foundation
import GRDB
import Synchronization

/// The vectors of recently recalled agents, in memory, bounded in bytes (least recently used
/// out first). An agent's copy is checked against `vector_generations` on every use: unchanged,
/// it is used as is; only inserts since, they are appended; any delete, it is reloaded. On
/// PostgreSQL a row can commit after a row with a later `seq` (its transaction took the number
/// first but committed second): appended rows that fall short of the inserts counted since mean
/// such a row was passed over, and the copy is reloaded whole.
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

    /// What a snapshot read needs: the cached copy as it is, or the rows after `base`'s last
    /// (all of them when `base` is nil) added to it.
    enum Refresh {
        case current(Snapshot)
        case load(Loading)
    }

    /// A snapshot being read: the rows of `memory_vectors` in row order, appended.
    struct Loading {
        let key: Key
        let inserted: Int64
        let deleted: Int64
        var ids: [String]
        var matrix: [Float]
        var maxRowID: Int64
        /// For rows appended to a cached copy: how many its agent's inserts since would add if
        /// all were of this model.
        let expectedAppended: (base: Int, count: Int64)?

        mutating func add(rowID: Int64, memoryID: String, vector: UnsafeRawBufferPointer) {
            maxRowID = max(maxRowID, rowID)
            ids.append(memoryID)
            VectorCoding.append(blob: vector, to: &matrix)
        }
    }

    /// Decides from the agent's vector generation (inserted and deleted counts) whether its
    /// cached copy is current, can be extended by the rows inserted since, or must be reloaded.
    func refresh(agent: String, model: EmbeddingModel, inserted: Int64, deleted: Int64) -> Refresh {
        let key = Key(agent: agent, model: model)
        let cached = state.withLock { state -> Snapshot? in
            state.tick += 1
            guard let entry = state.entries[key] else { return nil }
            state.entries[key]?.lastUse = state.tick
            return entry.snapshot
        }
        // A copy read by a newer snapshot than the caller's serves it too: the rows it has
        // beyond the caller's are of memories the caller cannot see or has queued.
        if let cached, cached.inserted >= inserted, cached.deleted == deleted { return .current(cached) }
        let base = cached.flatMap { $0.deleted == deleted ? $0 : nil }
        return .load(
            Loading(
                key: key, inserted: inserted, deleted: deleted, ids: base?.ids ?? [], matrix: base?.matrix ?? [],
                maxRowID: base?.maxRowID ?? 0, expectedAppended: base.map { ($0.ids.count, inserted - $0.inserted) }))
    }

    /// The snapshot `loading` read, kept for the next recall; or, when the rows it appended
    /// fall short of the inserts counted, a whole reload to read instead. Fewer rows also come
    /// from inserts of another model: those agents are read whole while they have both.
    func finish(_ loading: Loading) -> Refresh {
        if let expected = loading.expectedAppended, loading.ids.count - expected.base < expected.count {
            return .load(
                Loading(
                    key: loading.key, inserted: loading.inserted, deleted: loading.deleted, ids: [], matrix: [],
                    maxRowID: 0, expectedAppended: nil))
        }
        let fresh = Snapshot(
            ids: loading.ids, matrix: loading.matrix, dimensions: loading.key.model.dimensions,
            inserted: loading.inserted, deleted: loading.deleted, maxRowID: loading.maxRowID)
        store(fresh, key: loading.key)
        return .current(fresh)
    }

    /// The agent's current vectors of `model`, read through the cache.
    func snapshot(_ db: Database, agent: String, model: EmbeddingModel) throws -> Snapshot {
        let generation = try Row.fetchOne(
            db, sql: "SELECT inserted, deleted FROM vector_generations WHERE agent_id = ?", arguments: [agent])
        var step = refresh(agent: agent, model: model, inserted: generation?["inserted"] ?? 0, deleted: generation?["deleted"] ?? 0)
        while true {
            switch step {
            case .current(let snapshot):
                return snapshot
            case .load(var loading):
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT rowid, memory_id, vector FROM memory_vectors
                        WHERE agent_id = ? AND model = ? AND dimensions = ? AND rowid > ? ORDER BY rowid
                        """,
                    arguments: [agent, model.name, model.dimensions, loading.maxRowID])
                while let row = try rows.next() {
                    let rowID: Int64 = row["rowid"]
                    let memoryID: String = row["memory_id"]
                    try row.withUnsafeData(atIndex: 2) { data in
                        data?.withUnsafeBytes { loading.add(rowID: rowID, memoryID: memoryID, vector: $0) }
                    }
                }
                step = finish(loading)
            }
        }
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
