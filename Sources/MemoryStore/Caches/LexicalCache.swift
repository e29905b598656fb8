import Foundation
import GRDB

/// The full-text side of recall: per agent, the Porter-stemmed terms of every memory (live,
/// archived and queued alike; recall's filters apply afterwards, as to vectors), ranked by
/// Okapi BM25 in Swift, so SQLite and PostgreSQL rank alike. Kept current by
/// `memory_generations` (see `GenerationCache`).
final class LexicalCache: Sendable {
    /// One agent's inverted index.
    final class Index: Sendable {
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

    /// An index being read: rows in row order, appended to a kept copy's.
    struct Loading {
        let agent: String
        let inserted: Int64
        let deleted: Int64
        let base: GenerationCache<String, Index>.Entry?
        var ids: [String]
        var lengths: [Int32]
        var postings: [String: [Index.Posting]]
        var totalLength: Int
        var maxRowID: Int64

        mutating func add(rowID: Int64, memoryID: String, content: String) {
            maxRowID = max(maxRowID, rowID)
            let document = Int32(ids.count)
            ids.append(memoryID)
            let terms = LexicalText.terms(content)
            lengths.append(Int32(terms.count))
            totalLength += terms.count
            var counts: [String: Int32] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            for (term, count) in counts { postings[term, default: []].append(Index.Posting(document: document, count: count)) }
        }
    }

    enum Refresh {
        case current(Index)
        case load(Loading)
    }

    let cache: GenerationCache<String, Index>

    init(capacityBytes: Int) {
        cache = GenerationCache(capacityBytes: capacityBytes)
    }

    func refresh(agent: String, inserted: Int64, deleted: Int64) -> Refresh {
        switch cache.lookup(agent, inserted: inserted, deleted: deleted) {
        case .current(let index): return .current(index)
        case .extend(let base): return .load(Self.loading(agent, inserted: inserted, deleted: deleted, base: base))
        }
    }

    static func loading(
        _ agent: String, inserted: Int64, deleted: Int64, base: GenerationCache<String, Index>.Entry?
    ) -> Loading {
        Loading(
            agent: agent, inserted: inserted, deleted: deleted, base: base, ids: base?.value.ids ?? [],
            lengths: base?.value.lengths ?? [], postings: base?.value.postings ?? [:],
            totalLength: base?.value.totalLength ?? 0, maxRowID: base?.maxRowID ?? 0)
    }

    func finish(_ loading: Loading) -> Refresh {
        let index = Index(ids: loading.ids, lengths: loading.lengths, postings: loading.postings, totalLength: loading.totalLength)
        let entry = GenerationCache<String, Index>.Entry(
            value: index, inserted: loading.inserted, deleted: loading.deleted, maxRowID: loading.maxRowID,
            rows: index.ids.count, bytes: index.bytes)
        guard cache.keep(entry, key: loading.agent, base: loading.base) else {
            return .load(Self.loading(loading.agent, inserted: loading.inserted, deleted: loading.deleted, base: nil))
        }
        return .current(index)
    }

    /// The agent's current index, read through the cache.
    func index(_ db: Database, agent: String) throws -> Index {
        let generation = try Row.fetchOne(
            db, sql: "SELECT inserted, deleted FROM memory_generations WHERE agent_id = ?", arguments: [agent])
        var step = refresh(agent: agent, inserted: generation?["inserted"] ?? 0, deleted: generation?["deleted"] ?? 0)
        while true {
            switch step {
            case .current(let index):
                return index
            case .load(var loading):
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT rowid, id, content FROM memories WHERE agent_id = ? AND rowid > ? ORDER BY rowid",
                    arguments: [agent, loading.maxRowID])
                while let row = try rows.next() {
                    loading.add(rowID: row[0], memoryID: row[1], content: row[2])
                }
                step = finish(loading)
            }
        }
    }
}
