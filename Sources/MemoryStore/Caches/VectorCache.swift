import Foundation
import GRDB

/// The vectors of recently recalled agents, in memory, kept current by `vector_generations`
/// (see `GenerationCache`).
final class VectorCache: Sendable {
    /// One agent's vectors of one model: row i of `matrix` is the vector of `ids[i]`.
    final class Snapshot: Sendable {
        let ids: [String]
        /// Row of each id.
        let index: [String: Int]
        let matrix: [Float]
        let dimensions: Int

        init(ids: [String], matrix: [Float], dimensions: Int) {
            self.ids = ids
            self.index = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            self.matrix = matrix
            self.dimensions = dimensions
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

    let cache: GenerationCache<Key, Snapshot>

    init(capacityBytes: Int) {
        cache = GenerationCache(capacityBytes: capacityBytes)
    }

    var residentBytes: Int { cache.residentBytes }

    /// What a snapshot read needs: the cached copy as it is, or rows to read.
    enum Refresh {
        case current(Snapshot)
        case load(Loading)
    }

    /// A snapshot being read: the rows of `memory_vectors` in row order, appended to `base`'s.
    struct Loading {
        let key: Key
        let inserted: Int64
        let deleted: Int64
        let base: GenerationCache<Key, Snapshot>.Entry?
        var ids: [String]
        var matrix: [Float]
        var maxRowID: Int64

        mutating func add(rowID: Int64, memoryID: String, vector: UnsafeRawBufferPointer) {
            maxRowID = max(maxRowID, rowID)
            ids.append(memoryID)
            VectorCoding.append(blob: vector, to: &matrix)
        }
    }

    func refresh(agent: String, model: EmbeddingModel, inserted: Int64, deleted: Int64) -> Refresh {
        let key = Key(agent: agent, model: model)
        switch cache.lookup(key, inserted: inserted, deleted: deleted) {
        case .current(let snapshot): return .current(snapshot)
        case .extend(let base):
            return .load(
                Loading(
                    key: key, inserted: inserted, deleted: deleted, base: base, ids: base?.value.ids ?? [],
                    matrix: base?.value.matrix ?? [], maxRowID: base?.maxRowID ?? 0))
        }
    }

    /// The snapshot `loading` read, kept for the next recall; or a whole read to do instead.
    func finish(_ loading: Loading) -> Refresh {
        let fresh = Snapshot(ids: loading.ids, matrix: loading.matrix, dimensions: loading.key.model.dimensions)
        let entry = GenerationCache<Key, Snapshot>.Entry(
            value: fresh, inserted: loading.inserted, deleted: loading.deleted, maxRowID: loading.maxRowID,
            rows: fresh.ids.count, bytes: fresh.bytes)
        guard cache.keep(entry, key: loading.key, base: loading.base) else {
            return .load(
                Loading(
                    key: loading.key, inserted: loading.inserted, deleted: loading.deleted, base: nil, ids: [],
                    matrix: [], maxRowID: 0))
        }
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
}
