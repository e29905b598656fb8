import CoreMetrics
import Foundation
import Maintenance
import MemoryStore

/// `llm.*`: the chat model of `consolidation.summarizer: llm`.
struct LLMConfiguration: Sendable, Equatable {
    var url: String?
    var model: String?
    var apiKeyFile: String?
    var timeout: Duration = .seconds(60)
    var maxConcurrency = 2
    var temperature = 0.0
    var maxOutputTokens = 600
    /// Facts the plan keeps at this importance or above must be cited by the model's text.
    var mustKeepImportance = 0.8
    /// After this many failed calls in a row, no calls for `breakerCooldown`.
    var breakerFailures = 5
    var breakerCooldown: Duration = .seconds(600)
    /// Prompt + completion tokens; nil: no limit. Once spent, batches keep their extractive text.
    var maxTokensPerRun: Int?
    var maxTokensPerDay: Int? = 1_000_000
    var extraHeaders: [String: String] = [:]

    /// The file name looked up in `$CREDENTIALS_DIRECTORY` when `api_key_file` is unset.
    static let credentialName = "llm-api-key"

    func makeSummarizer(
        maxSummaryCharacters: Int, environment: [String: String], clock: any WallClock, metrics: any MetricsFactory
    ) throws -> LLMSummarizer {
        guard let url, let model else {
            throw ProviderSetupError(description: "consolidation.summarizer llm needs llm.url and llm.model")
        }
        var settings = ChatCompletionsClient.Settings(
            url: url, model: model,
            apiKey: try Credential.read(
                file: apiKeyFile, key: "llm.api_key_file", credential: Self.credentialName, environment: environment))
        settings.timeout = timeout
        settings.temperature = temperature
        settings.maxOutputTokens = maxOutputTokens
        settings.extraHeaders = extraHeaders
        return LLMSummarizer(
            client: ChatCompletionsClient(settings: settings),
            gate: SummaryGate(maxCharacters: maxSummaryCharacters, mustKeepImportance: mustKeepImportance),
            breaker: CircuitBreaker(failures: breakerFailures, cooldown: breakerCooldown.milliseconds),
            budget: budget, concurrency: maxConcurrency, clock: clock, metrics: LLMMetrics(factory: metrics))
    }

    var budget: TokenBudget { TokenBudget(perRun: maxTokensPerRun, perDay: maxTokensPerDay) }
}
