import Foundation
import GRDB

/// The full-text side of recall: per agent, the Porter-stemmed terms of every memory (live,
/// archived and queued alike; recall's filters apply afterwards, as to vectors), ranked by
/// Okapi BM25 in Swift, so SQLite and PostgreSQL rank alike. Kept current by
/// `memory_generations` (see `GenerationCache`).
final class LexicalCache: Sendable {
    /// One agent's inverted index.
    final class Index: CachedRows {
        struct Posting: Sendable {
            var document: Int32
            var count: Int32
        }

        let ids: [String]
        /// Row of each id.
        let position: [String: Int]
        let lengths: [Int32]
        let postings: [String: [Posting]]
        let totalLength: Int

        init(ids: [String], lengths: [Int32], postings: [String: [Posting]], totalLength: Int) {
            self.ids = ids
            self.position = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            self.lengths = lengths
            self.postings = postings
            self.totalLength = totalLength
        }

        var rowCount: Int { ids.count }
        var bytes: Int { ids.count * 104 + postings.count * 64 + postings.values.reduce(0) { $0 + $1.count * 8 } }

        static let k1: Float = 1.2
        static let b: Float = 0.75

        func idf(_ term: String) -> Float {
            let n = Float(ids.count)
            let df = Float(postings[term]?.count ?? 0)
            return Float(Foundation.log(Double(1 + (n - df + 0.5) / (df + 0.5))))
        }

        /// The BM25 of a memory of average length that holds each of the query's terms once:
        /// what a full match scores, so that a match on a few common words of the query stays
        /// a weak one (a term no memory holds counts at its highest rarity).
        func fullMatch(of terms: [String]) -> Float { Set(terms).reduce(0) { $0 + idf($1) } }

        /// BM25 of every memory for the query's terms (0 where none matches), in `ids` order.
        func scores(for terms: [String]) -> [Float] {
            var scores = [Float](repeating: 0, count: ids.count)
            guard !ids.isEmpty else { return scores }
            let average = Float(totalLength) / Float(ids.count)
            for term in Set(terms) {
                guard let list = postings[term] else { continue }
                let idf = idf(term)
                for posting in list {
                    let tf = Float(posting.count)
                    let norm = Self.k1 * (1 - Self.b + Self.b * Float(lengths[Int(posting.document)]) / max(average, 1))
                    scores[Int(posting.document)] += idf * tf * (Self.k1 + 1) / (tf + norm)
                }
            }
            return scores
        }
    }

    /// An index being built: memories appended.
    struct Rows: RowsBuilder {
        var ids: [String]
        var lengths: [Int32]
        var postings: [String: [Index.Posting]]
        var totalLength: Int

        init(key: String, base: Index?) {
            ids = base?.ids ?? []
            lengths = base?.lengths ?? []
            postings = base?.postings ?? [:]
            totalLength = base?.totalLength ?? 0
        }

        mutating func add(memoryID: String, content: String) {
            let document = Int32(ids.count)
            ids.append(memoryID)
            let terms = LexicalText.terms(content)
            lengths.append(Int32(terms.count))
            totalLength += terms.count
            var counts: [String: Int32] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            for (term, count) in counts { postings[term, default: []].append(Index.Posting(document: document, count: count)) }
        }

        func build() -> Index { Index(ids: ids, lengths: lengths, postings: postings, totalLength: totalLength) }
    }

    let cache: GenerationCache<Rows>

    init(capacityBytes: Int) {
        cache = GenerationCache(capacityBytes: capacityBytes)
    }

    /// The agent's current index, read through the cache.
    func index(_ db: Database, agent: String) throws -> Index {
        let generation = try Row.fetchOne(
            db, sql: "SELECT inserted, deleted FROM memory_generations WHERE agent_id = ?", arguments: [agent])
        return try cache.read(agent, inserted: generation?["inserted"] ?? 0, deleted: generation?["deleted"] ?? 0) { loading in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT rowid, id, content FROM memories WHERE agent_id = ? AND rowid > ? ORDER BY rowid",
                arguments: [agent, loading.maxRowID])
            while let row = try rows.next() {
                loading.rows.add(memoryID: row[1], content: row[2])
                loading.read(rowID: row[0])
            }
        }
    }
}
