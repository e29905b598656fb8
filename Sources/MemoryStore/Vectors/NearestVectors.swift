/// One query's similarities to every vector of an agent (exact, brute force), with the
/// nearest in order on demand.
struct NearestVectors: Sendable {
    let snapshot: VectorCache.Snapshot
    let scores: [Float]

    init(snapshot: VectorCache.Snapshot, query: [Float]) {
        self.snapshot = snapshot
        self.scores = snapshot.similarities(to: query)
    }

    func similarity(of id: String) -> Float? {
        snapshot.index[id].map { scores[$0] }
    }

    /// The ids of the `count` nearest vectors, nearest first.
    func top(_ count: Int) -> [String] {
        TopScores.indices(of: scores, count: count).map { snapshot.ids[$0] }
    }
}

/// The positions of the highest scores.
enum TopScores {
    /// The positions of the `count` highest of `scores`, highest first. Keeps a buffer of twice
    /// the count and cuts it back when full: O(n log count), not a sort of all n.
    static func indices(of scores: [Float], count: Int) -> [Int] {
        guard count < scores.count else {
            return scores.indices.sorted { scores[$0] > scores[$1] }
        }
        var best: [Int] = []
        best.reserveCapacity(2 * count)
        var floor = -Float.infinity
        for index in scores.indices where scores[index] > floor || best.count < count {
            best.append(index)
            if best.count == 2 * count {
                best.sort { scores[$0] > scores[$1] }
                best.removeLast(count)
                floor = scores[best[count - 1]]
            }
        }
        best.sort { scores[$0] > scores[$1] }
        return Array(best.prefix(count))
    }
}
