/// Turns texts into unit-length vectors. One implementation per provider: the built-in model,
/// or an OpenAI-compatible server.
public protocol TextEmbedder: Sendable {
    /// Names the vector space: stored with every vector, so vectors of another model are
    /// recognised and re-embedded.
    var modelID: String { get }
    var dimensions: Int { get }
    /// Whether it runs in this process: such an embedder is fast and never waits on a network,
    /// so a store request embeds its memory at once; a remote one is left to the `embed` job.
    var embedsInline: Bool { get }
    /// One vector per text, in order, each of `dimensions` values and L2 norm 1.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

extension TextEmbedder {
    /// Scales `vector` to unit length (a zero vector stays zero).
    static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
