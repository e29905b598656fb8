/// Why texts could not be embedded, with what an operator needs to act on it.
public enum EmbeddingError: Error, Equatable, CustomStringConvertible {
    /// A model file is missing, unreadable or not what the model needs.
    case modelFile(path: String, reason: String)
    /// The model directory lacks files; `fetch` names the command that downloads them.
    case modelMissing(directory: String, files: [String], fetch: String)
    /// The embeddings server answered with an error status (after retries, when retryable).
    case server(url: String, status: Int, body: String)
    /// The server's answer is not an embeddings response for the texts sent.
    case malformedAnswer(url: String, reason: String)
    case wrongDimensions(url: String, expected: Int, got: Int)
    case timedOut(url: String, seconds: Double)
    case transport(url: String, reason: String)

    public var description: String {
        switch self {
        case .modelFile(let path, let reason): "model file \(path): \(reason)"
        case .modelMissing(let directory, let files, let fetch):
            "the embedding model is missing from \(directory) (\(files.joined(separator: ", "))); fetch it with \(fetch)"
        case .server(let url, let status, let body): "embeddings server \(url) answered \(status): \(body.prefix(200))"
        case .malformedAnswer(let url, let reason): "embeddings server \(url) sent a malformed answer: \(reason)"
        case .wrongDimensions(let url, let expected, let got):
            "embeddings server \(url) sent vectors of \(got) dimensions, expected \(expected) (embeddings.dimensions)"
        case .timedOut(let url, let seconds): "embeddings server \(url) did not answer within \(seconds) s"
        case .transport(let url, let reason): "embeddings server \(url) unreachable: \(reason)"
        }
    }
}
