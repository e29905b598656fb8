/// Turns texts into unit-length vectors. One implementation per provider: the built-in model,
/// or an OpenAI-compatible server.
public protocol TextEmbedder: Sendable {
    /// Names the vector space: stored with every vector, so vectors of another model are
    /// recognised and re-embedded.
    var modelID: String { get }
    var dimensions: Int { get }
    /// Whether a store request embeds its memory at once (in-process only, never over a
    /// network); otherwise the `embed` job does, and the request never waits.
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
