import Embeddings
import Foundation
import Logging
import MemoryService

/// `embeddings.*`: where vectors come from.
struct EmbeddingsConfiguration: Sendable, Equatable {
    enum Provider: String, Sendable, CaseIterable {
        /// builtin when the model files are present, else lexical recall only (one warning).
        case auto
        case builtin
        case openai
        case none
    }

    var provider = Provider.auto
    /// The built-in model's files (`scripts/fetch-model` puts them here).
    var modelDirectory = "var/models/\(BuiltinEmbedder.defaultModelName)"
    /// OpenBLAS threads of the built-in model.
    var threads = 1
    /// builtin: embed each memory in its store request (recalled by meaning at once) instead
    /// of by the `embed` job moments later.
    var embedOnStore = false
    var url: String?
    var model: String?
    var apiKeyFile: String?
    var dimensions: Int?
    var batchSize = 64
    var timeout: Duration = .seconds(30)
    var retries = 3
    var cacheMB = 64

    /// The file name looked up in `$CREDENTIALS_DIRECTORY` (systemd's LoadCredential=) when
    /// `api_key_file` is unset.
    static let credentialName = "embeddings-api-key"
}


extension EmbeddingsConfiguration {
    /// Which recall this configuration puts in force, read from the files alone (`status`
    /// loads no model): a builtin model that is missing fails start-up instead.
    var recallMode: RecallMode {
        switch provider {
        case .none: .fullText(reason: "embeddings.provider is none")
        case .auto where !BuiltinEmbedder.isPresent(in: modelDirectory):
            .fullText(
                reason: "no embedding model in \(modelDirectory) (embeddings.provider auto); fetch it with \(BuiltinEmbedder.fetchCommand) or set embeddings.provider")
        case .auto, .builtin: .vectors(model: BuiltinEmbedder.defaultModelName)
        case .openai: .vectors(model: model ?? "")
        }
    }

    /// The embedder this configuration asks for; nil for lexical-only recall.
    func makeEmbedder(logger: Logger, environment: [String: String]) throws -> (any TextEmbedder)? {
        switch provider {
        case .none:
            return nil
        case .auto:
            if case .fullText(let reason) = recallMode {
                logger.warning("recall ranks by full text only: \(reason)")
                return nil
            }
            return try builtin()
        case .builtin:
            return try builtin()
        case .openai:
            guard let url, let model, let dimensions else {
                throw ProviderSetupError(description: "embeddings.provider openai needs embeddings.url, embeddings.model and embeddings.dimensions")
            }
            var settings = OpenAIEmbedder.Settings(url: url, model: model, apiKey: try apiKey(environment: environment), dimensions: dimensions)
            settings.batchSize = batchSize
            settings.timeout = timeout
            settings.retries = retries
            return OpenAIEmbedder(settings: settings)
        }
    }

    func builtin() throws -> BuiltinEmbedder {
        do {
            return try BuiltinEmbedder(directory: modelDirectory, threads: threads, embedsInline: embedOnStore)
        } catch {
            throw ProviderSetupError(description: "embeddings.provider \(provider.rawValue): \(error)")
        }
    }

    func apiKey(environment: [String: String]) throws -> String? {
        try Credential.read(
            file: apiKeyFile, key: "embeddings.api_key_file", credential: Self.credentialName, environment: environment)
    }
}
