import Foundation

/// all-MiniLM-L6-v2 (or another BERT sentence encoder of the same layout) from a directory of
/// `model.safetensors`, `tokenizer.json` and `config.json`, run in-process.
public struct BuiltinEmbedder: TextEmbedder {
    public static let defaultModelName = "all-MiniLM-L6-v2"
    public static let requiredFiles = ["model.safetensors", "tokenizer.json", "config.json"]
    public static let fetchCommand = "scripts/fetch-model"

    public let modelID: String
    public let dimensions: Int
    /// Off by default: a store then costs a forward pass (~8 ms) on its request path.
    public let embedsInline: Bool
    public let tokenizer: BertTokenizer
    public let encoder: BertEncoder
    /// Tokens per text, `[CLS]` and `[SEP]` included (sentence-transformers' max_seq_length).
    public let maxTokens: Int
    /// Tokens per forward pass: bounds the scratch memory of one batch.
    let tokensPerPass = 4096

    /// Whether `directory` holds every file the model needs.
    public static func isPresent(in directory: String) -> Bool {
        requiredFiles.allSatisfy { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    public init(directory: String, threads: Int = 1, embedsInline: Bool = false) throws {
        self.embedsInline = embedsInline
        let missing = Self.requiredFiles.filter { !FileManager.default.fileExists(atPath: directory + "/" + $0) }
        guard missing.isEmpty else {
            throw EmbeddingError.modelMissing(directory: directory, files: missing, fetch: Self.fetchCommand)
        }
        let shape = try Self.shape(configPath: directory + "/config.json")
        tokenizer = try BertTokenizer(contentsOf: URL(fileURLWithPath: directory + "/tokenizer.json"))
        encoder = try BertEncoder(weights: try SafeTensors(path: directory + "/model.safetensors"), shape: shape, threads: threads)
        maxTokens = min(shape.maxPositions, Self.maxSequenceLength(directory: directory) ?? 256)
        dimensions = shape.hidden
        modelID = URL(fileURLWithPath: directory).lastPathComponent
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        tokenizeAndEncode(texts.map(Self.asSentence))
    }

    /// The text as a sentence: a final period where it ends without punctuation. The model was
    /// trained on punctuated sentences, and agents write facts without one ("runs FastAPI
    /// backend with PostgreSQL 14"): on the recall-quality scenario with the periods stripped,
    /// paraphrase recall@3 is 0.68 without this and 0.77 with it (0.78 with the periods kept).
    public static func asSentence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let last = trimmed.unicodeScalars.last, !BertTokenizer.isPunctuation(last) else { return text }
        return trimmed + "."
    }

    public func tokenizeAndEncode(_ texts: [String]) -> [[Float]] {
        let sequences = texts.map { tokenizer.encode($0, maxTokens: maxTokens) }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var batch: [[Int32]] = []
        var tokens = 0
        for sequence in sequences {
            if tokens + sequence.count > tokensPerPass, !batch.isEmpty {
                vectors += encoder.embed(batch)
                batch.removeAll(keepingCapacity: true)
                tokens = 0
            }
            batch.append(sequence)
            tokens += sequence.count
        }
        if !batch.isEmpty { vectors += encoder.embed(batch) }
        return vectors
    }

    static func shape(configPath: String) throws -> BertEncoder.Shape {
        guard let data = FileManager.default.contents(atPath: configPath),
            let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw EmbeddingError.modelFile(path: configPath, reason: "not a JSON object") }
        var shape = BertEncoder.Shape()
        func int(_ key: String) throws -> Int {
            guard let value = config[key] as? Int, value > 0 else {
                throw EmbeddingError.modelFile(path: configPath, reason: "\(key) must be a positive integer")
            }
            return value
        }
        shape.layers = try int("num_hidden_layers")
        shape.hidden = try int("hidden_size")
        shape.heads = try int("num_attention_heads")
        shape.intermediate = try int("intermediate_size")
        shape.maxPositions = try int("max_position_embeddings")
        shape.vocabulary = try int("vocab_size")
        if let epsilon = config["layer_norm_eps"] as? Double { shape.layerNormEpsilon = Float(epsilon) }
        guard shape.hidden % shape.heads == 0 else {
            throw EmbeddingError.modelFile(path: configPath, reason: "hidden_size is not a multiple of num_attention_heads")
        }
        guard (config["hidden_act"] as? String ?? "gelu") == "gelu" else {
            throw EmbeddingError.modelFile(path: configPath, reason: "hidden_act must be gelu")
        }
        return shape
    }

    static func maxSequenceLength(directory: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: directory + "/sentence_bert_config.json"),
            let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return config["max_seq_length"] as? Int
    }
}
