/// Which recall is in force, for `/health`, `status` and `/metrics`: by vectors (and full
/// text), or by full text only and why. A daemon never degrades without saying so.
public enum RecallMode: Sendable, Equatable, Codable {
    case vectors(model: String)
    case fullText(reason: String)

    public var line: String {
        switch self {
        case .vectors(let model): "by the vectors of \(model) and full text"
        case .fullText(let reason): "by full text only: \(reason)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case mode, model, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .vectors(let model):
            try container.encode("vectors", forKey: .mode)
            try container.encode(model, forKey: .model)
        case .fullText(let reason):
            try container.encode("full_text", forKey: .mode)
            try container.encode(reason, forKey: .reason)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self =
            try container.decode(String.self, forKey: .mode) == "vectors"
            ? .vectors(model: try container.decode(String.self, forKey: .model))
            : .fullText(reason: try container.decode(String.self, forKey: .reason))
    }
}
