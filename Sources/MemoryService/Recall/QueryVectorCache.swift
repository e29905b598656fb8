import Embeddings
import MemoryStore
import Synchronization

/// The vectors of recent recall queries, least recently used out first. Agents ask the same
/// session-start questions again and again, and a query's forward pass (~8 ms on one core for
/// eight tokens, bound by streaming the weights) is most of a recall's time.
final class QueryVectorCache: Sendable {
    struct Key: Hashable {
        var model: EmbeddingModel
        var text: String
    }

    struct State {
        var entries: [Key: (vector: [Float], lastUse: UInt64)] = [:]
        var tick: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// The vectors of `texts`: cached ones at once, the others embedded in one batch.
    func vectors(_ texts: [String], embedder: any TextEmbedder) async throws -> [[Float]] {
        let model = embedder.vectorModel
        var found = state.withLock { state in
            texts.map { text -> [Float]? in
                state.tick += 1
                let key = Key(model: model, text: text)
                guard let entry = state.entries[key] else { return nil }
                state.entries[key]?.lastUse = state.tick
                return entry.vector
            }
        }
        let missing = Array(Set(texts.indices.filter { found[$0] == nil }.map { texts[$0] }))
        guard !missing.isEmpty else { return found.map { $0! } }
        let fresh = Dictionary(uniqueKeysWithValues: zip(missing, try await embedder.embed(missing)))
        state.withLock { state in
            for (text, vector) in fresh {
                state.tick += 1
                state.entries[Key(model: model, text: text)] = (vector, state.tick)
            }
            while state.entries.count > capacity, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries.removeValue(forKey: oldest.key)
            }
        }
        for index in texts.indices where found[index] == nil { found[index] = fresh[texts[index]] }
        return found.map { $0! }
    }
}

extension TextEmbedder {
    /// The vector space its vectors are stored under (the jobs name it the same way; the front
    /// ends do not see the jobs).
    var vectorModel: EmbeddingModel { EmbeddingModel(name: modelID, dimensions: dimensions) }
}
