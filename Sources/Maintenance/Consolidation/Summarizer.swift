import MemoryStore

/// Turns the live memories of a group of sessions into the content of one semantic summary.
public protocol Summarizer: Sendable {
    /// Recorded in the summary's metadata.
    var name: String { get }
    func summarize(_ facts: [Memory]) async throws -> String
}
