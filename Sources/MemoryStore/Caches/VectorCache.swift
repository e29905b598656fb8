import Foundation
import GRDB

/// The vectors of recently recalled agents, in memory, kept current by `vector_generations`
/// (see `GenerationCache`).
final class VectorCache: Sendable {
    /// One agent's vectors of one model: row i of `matrix` is the vector of `ids[i]`.
    final class Snapshot: CachedRows {
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
        var rowCount: Int { ids.count }

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

    /// A snapshot being built: rows of `memory_vectors` appended.
    struct Rows: RowsBuilder {
        let dimensions: Int
        var ids: [String]
        var matrix: [Float]

        init(key: Key, base: Snapshot?, previous: Snapshot?) {
            dimensions = key.model.dimensions
            ids = base?.ids ?? []
            matrix = base?.matrix ?? []
        }

        mutating func add(memoryID: String, vector: UnsafeRawBufferPointer) {
            ids.append(memoryID)
            VectorCoding.append(blob: vector, to: &matrix)
        }

        func build() -> Snapshot { Snapshot(ids: ids, matrix: matrix, dimensions: dimensions) }
    }

    let cache: GenerationCache<Rows>

    init(capacityBytes: Int) {
        cache = GenerationCache(capacityBytes: capacityBytes)
    }

    var residentBytes: Int { cache.residentBytes }

    /// The agent's current vectors of `model`, read through the cache.
    func snapshot(_ db: Database, agent: String, model: EmbeddingModel) throws -> Snapshot {
        let generation = try Row.fetchOne(
            db, sql: "SELECT inserted, deleted FROM vector_generations WHERE agent_id = ?", arguments: [agent])
        return try cache.read(
            Key(agent: agent, model: model), inserted: generation?["inserted"] ?? 0, deleted: generation?["deleted"] ?? 0
        ) { loading in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT rowid, memory_id, vector FROM memory_vectors
                    WHERE agent_id = ? AND model = ? AND dimensions = ? AND rowid > ? ORDER BY rowid
                    """,
                arguments: [agent, model.name, model.dimensions, loading.maxRowID])
            while let row = try rows.next() {
                let memoryID: String = row["memory_id"]
                try row.withUnsafeData(atIndex: 2) { data in
                    data?.withUnsafeBytes { loading.rows.add(memoryID: memoryID, vector: $0) }
                }
                loading.read(rowID: row["rowid"])
            }
        }
    }
}
