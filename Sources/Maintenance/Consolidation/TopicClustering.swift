/// Groups a batch's lines into topics: by vector similarity (average-linkage agglomerative
/// clustering) when every line has a vector, else by tags.
enum TopicClustering {
    /// Clusters whose average cosine similarity is at least this are one topic (MiniLM: facts
    /// about one subject sit around 0.3–0.6, unrelated ones below 0.2).
    static let topicSimilarity: Float = 0.25

    /// Merges the most similar pair of clusters while they are similar enough, and further
    /// while there are more than `maxTopics`. Deterministic: ties go to the lower indices.
    /// Returns clusters of indices, each in ascending order, ordered by their first index.
    static func byVectors(_ vectors: [[Float]], maxTopics: Int) -> [[Int]] {
        let count = vectors.count
        guard count > 1 else { return count == 1 ? [[0]] : [] }
        var similarity = [[Float]](repeating: [Float](repeating: 0, count: count), count: count)
        for a in 0..<count {
            for b in (a + 1)..<count {
                let value = cosine(vectors[a], vectors[b])
                similarity[a][b] = value
                similarity[b][a] = value
            }
        }
        var clusters: [[Int]?] = (0..<count).map { [$0] }
        var alive = count
        while alive > 1 {
            var best: (a: Int, b: Int, value: Float)?
            for a in 0..<count where clusters[a] != nil {
                for b in (a + 1)..<count where clusters[b] != nil {
                    if best == nil || similarity[a][b] > best!.value { best = (a, b, similarity[a][b]) }
                }
            }
            guard let (a, b, value) = best, value >= topicSimilarity || alive > maxTopics else { break }
            let (sizeA, sizeB) = (Float(clusters[a]!.count), Float(clusters[b]!.count))
            for k in 0..<count where clusters[k] != nil && k != a && k != b {
                let merged = (sizeA * similarity[a][k] + sizeB * similarity[b][k]) / (sizeA + sizeB)
                similarity[a][k] = merged
                similarity[k][a] = merged
            }
            clusters[a]! += clusters[b]!
            clusters[a]!.sort()
            clusters[b] = nil
            alive -= 1
        }
        return clusters.compactMap { $0 }.sorted { $0[0] < $1[0] }
    }

    /// Each line goes to the topic of its most common tag in the batch (ties: the tag's name);
    /// lines without tags form one topic. Past `maxTopics`, the smallest topics join into one.
    static func byTags(_ tags: [[String]], maxTopics: Int) -> [[Int]] {
        var frequency: [String: Int] = [:]
        for lineTags in tags { for tag in Set(lineTags) { frequency[tag, default: 0] += 1 } }
        var groups: [String: [Int]] = [:]
        for (index, lineTags) in tags.enumerated() {
            let key = lineTags.min { (-frequency[$0]!, $0) < (-frequency[$1]!, $1) } ?? ""
            groups[key, default: []].append(index)
        }
        var ordered = groups.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }.map(\.value)
        if ordered.count > maxTopics {
            let rest = ordered[(maxTopics - 1)...].flatMap { $0 }.sorted()
            ordered = Array(ordered[..<(maxTopics - 1)]) + [rest]
        }
        return ordered.sorted { $0[0] < $1[0] }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var (dot, normA, normB): (Float, Float, Float) = (0, 0, 0)
        for index in 0..<min(a.count, b.count) {
            dot += a[index] * b[index]
            normA += a[index] * a[index]
            normB += b[index] * b[index]
        }
        let norms = (normA * normB).squareRoot()
        return norms > 0 ? dot / norms : 0
    }
}
