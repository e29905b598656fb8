import Foundation
import GRDB

/// The full-text side of recall: per agent, the Porter-stemmed terms of every memory (live,
/// archived and queued alike; recall's filters apply afterwards, as to vectors), ranked by
/// Okapi BM25 in Swift, so SQLite and PostgreSQL rank alike. Kept current by
/// `memory_generations` (see `GenerationCache`).
final class LexicalCache: Sendable {
    /// One agent's inverted index. Terms are numbered (`vocabulary`) so that postings are arrays,
    /// and each memory's analysed text is kept, so that a whole read after a delete or a changed
    /// content analyses only the memories whose content it has not seen (`Rows`).
    final class Index: CachedRows {
        struct Posting: Sendable {
            var document: Int32
            var count: Int32
        }

        /// One memory's text as the index holds it: its terms with their counts, and the hash of
        /// the content they come from (this process's `Hasher`: the index never leaves it).
        struct Document: Sendable {
            struct Term: Sendable {
                var term: Int32
                var count: Int32
            }

            let contentHash: Int
            let terms: [Term]
            let length: Int32
        }

        let ids: [String]
        /// Row of each id.
        let position: [String: Int]
        let documents: [Document]
        let vocabulary: [String: Int32]
        /// The postings of each vocabulary number.
        let postings: [[Posting]]
        let totalLength: Int

        init(ids: [String], documents: [Document], vocabulary: [String: Int32], postings: [[Posting]], totalLength: Int) {
            self.ids = ids
            self.position = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            self.documents = documents
            self.vocabulary = vocabulary
            self.postings = postings
            self.totalLength = totalLength
        }

        var rowCount: Int { ids.count }
        var bytes: Int {
            ids.count * 120 + vocabulary.count * 72 + documents.reduce(0) { $0 + $1.terms.count * 16 }
        }

        static let k1: Float = 1.2
        static let b: Float = 0.75

        private func idf(documentFrequency df: Int) -> Float {
            let n = Float(ids.count)
            return Float(Foundation.log(Double(1 + (n - Float(df) + 0.5) / (Float(df) + 0.5))))
        }

        /// Whether most numbered terms are held by some memory.
        var isMostlyLive: Bool { postings.count { !$0.isEmpty } * 2 >= postings.count }

        private func documentFrequency(_ term: String) -> Int { vocabulary[term].map { postings[Int($0)].count } ?? 0 }

        /// The BM25 of a memory of average length that holds each of the query's terms once:
        /// what a full match scores, so that a match on a few common words of the query stays
        /// a weak one (a term no memory holds counts at its highest rarity).
        func fullMatch(of terms: [String]) -> Float {
            Set(terms).reduce(0) { $0 + idf(documentFrequency: documentFrequency($1)) }
        }

        /// BM25 of every memory for the query's terms (0 where none matches), in `ids` order.
        func scores(for terms: [String]) -> [Float] {
            var scores = [Float](repeating: 0, count: ids.count)
            guard !ids.isEmpty else { return scores }
            let average = Float(totalLength) / Float(ids.count)
            for term in Set(terms) {
                guard let number = vocabulary[term] else { continue }
                let list = postings[Int(number)]
                let idf = idf(documentFrequency: list.count)
                for posting in list {
                    let tf = Float(posting.count)
                    let length = Float(documents[Int(posting.document)].length)
                    let norm = Self.k1 * (1 - Self.b + Self.b * length / max(average, 1))
                    scores[Int(posting.document)] += idf * tf * (Self.k1 + 1) / (tf + norm)
                }
            }
            return scores
        }
    }

    /// An index being built: memories appended to a kept index, or read whole reusing the
    /// analysis of an earlier index for every memory whose content is unchanged (its vocabulary
    /// numbers stay, so its documents stay valid).
    struct Rows: RowsBuilder {
        private var ids: [String]
        private var documents: [Index.Document]
        private var vocabulary: [String: Int32]
        private var postings: [[Index.Posting]]
        private var totalLength: Int
        private let previous: Index?

        init(key: String, base: Index?, previous: Index?) {
            // Terms of deleted memories stay numbered; once they are most of the vocabulary, a
            // whole read starts afresh.
            let reusable = base == nil ? previous.flatMap { $0.isMostlyLive ? $0 : nil } : nil
            ids = base?.ids ?? []
            documents = base?.documents ?? []
            vocabulary = base?.vocabulary ?? reusable?.vocabulary ?? [:]
            postings = base?.postings ?? Array(repeating: [], count: vocabulary.count)
            totalLength = base?.totalLength ?? 0
            self.previous = reusable
        }

        mutating func add(memoryID: String, content: String) {
            let document = Int32(ids.count)
            ids.append(memoryID)
            let analysed = reused(memoryID: memoryID, content: content) ?? analyse(content)
            documents.append(analysed)
            totalLength += Int(analysed.length)
            for term in analysed.terms {
                postings[Int(term.term)].append(Index.Posting(document: document, count: term.count))
            }
        }

        private func reused(memoryID: String, content: String) -> Index.Document? {
            guard let previous, let row = previous.position[memoryID] else { return nil }
            let document = previous.documents[row]
            return document.contentHash == content.hashValue ? document : nil
        }

        private mutating func analyse(_ content: String) -> Index.Document {
            let terms = LexicalText.terms(content)
            var counts: [String: Int32] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            let numbered = counts.map { term, count in
                Index.Document.Term(term: number(of: term), count: count)
            }
            return Index.Document(contentHash: content.hashValue, terms: numbered, length: Int32(terms.count))
        }

        private mutating func number(of term: String) -> Int32 {
            if let number = vocabulary[term] { return number }
            let number = Int32(postings.count)
            vocabulary[term] = number
            postings.append([])
            return number
        }

        func build() -> Index {
            Index(ids: ids, documents: documents, vocabulary: vocabulary, postings: postings, totalLength: totalLength)
        }
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
