import Foundation
import Maintenance
@testable import memkeepd
import MemoryService
import Testing

@Suite struct ConfigurationTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/memkeep.yaml").path

    func load(_ yaml: String) throws(ConfigurationError) -> AppConfiguration { try loadTestYAML(yaml) }

    /// But for the provider: the shipped file asks for the built-in model, so that an install
    /// without it fails at start instead of serving full-text recall unawares.
    @Test func theShippedFileStatesExactlyTheBuiltInDefaults() async throws {
        var defaults = AppConfiguration()
        defaults.embeddings.provider = .builtin
        #expect(try ConfigurationLoader.load(path: Self.shipped, environment: [:]) == defaults)
    }

    @Test func relativePathsResolveAgainstTheStateDirectoryWhenSystemdSetsOne() async throws {
        let yaml = """
            store:
              path: ./var/memkeep.db
            embeddings:
              model_dir: models/minilm
            purge:
              export_dir: /srv/exports
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let served = try ConfigurationLoader.load(path: file, environment: ["STATE_DIRECTORY": "/var/lib/memkeep:/var/lib/other"])
        #expect(served.storeLocation == .sqlite(path: "/var/lib/memkeep/var/memkeep.db"))
        #expect(served.embeddings.modelDirectory == "/var/lib/memkeep/models/minilm")
        #expect(served.maintenance.purge.exportDirectory == "/srv/exports")
        let byHand = try ConfigurationLoader.load(path: file, environment: [:])
        #expect(byHand.storeLocation == .sqlite(path: "./var/memkeep.db"))
        #expect(byHand.embeddings.modelDirectory == "models/minilm")
    }

    @Test func daemonKeysAreRead() async throws {
        let configuration = try load(
            """
            jobs:
              backoff_initial: 1s
              backoff_max: 1m
              max_batch_time: 25ms
              contended_pause: 40ms
              decay: {interval: 2h, jitter: 0, timeout: 5m}
            http:
              listen: "[::1]:8080"
            shutdown:
              grace: 30s
            log:
              target: journal
            mcp:
              default_agent: support-customer-9182
            """)
        #expect(configuration.mcpDefaultAgent == "support-customer-9182")
        #expect(AppConfiguration().mcpDefaultAgent == nil)
        #expect(configuration.maintenance.jobs.interval[.decay] == .seconds(7200))
        #expect(configuration.maintenance.jobs.jitter[.decay] == .zero)
        #expect(configuration.maintenance.jobs.timeout[.decay] == .seconds(300))
        #expect(configuration.maintenance.jobs.backoffInitial == .seconds(1))
        #expect(configuration.maintenance.jobs.maxBatchTime == .milliseconds(25))
        #expect(configuration.maintenance.jobs.contendedPause == .milliseconds(40))
        #expect(try load("store:\n  readers: 4\n").store.readers == 4)
        #expect(configuration.http.host == "::1" && configuration.http.port == 8080)
        #expect(configuration.shutdownGrace == .seconds(30))
        #expect(configuration.logTarget == .journal)
    }

    @Test func badDaemonValuesNameTheKeyAndLine() {
        let cases: [(String, String)] = [
            ("http:\n  listen: localhost\n", "test.yaml:2: http.listen: must be host:port"),
            ("http:\n  listen: 127.0.0.1:70000\n", "test.yaml:2: http.listen: must be host:port"),
            ("jobs:\n  orphans: {interval: 1m}\n", "test.yaml:2: jobs.orphans.interval: is not a key: the orphan sweep runs at idle deadlines"),
            ("jobs:\n  decay: {budget: 0}\n", "test.yaml:2: jobs.decay.budget: must be more than 0"),
            ("jobs:\n  decay: {budget: 5m, timeout: 1m}\n", "jobs.decay.timeout: must be longer than the budget"),
            ("jobs:\n  backoff_initial: 1m\n  backoff_max: 1s\n", "jobs.backoff_max: must not be shorter than jobs.backoff_initial"),
            ("shutdown:\n  grace: 0\n", "test.yaml:2: shutdown.grace: must be more than 0"),
            ("jobs:\n  max_batch_time: 0\n", "test.yaml:2: jobs.max_batch_time: must be more than 0"),
            ("jobs:\n  contended_pause: long\n", "test.yaml:2: jobs.contended_pause: must be a duration"),
            ("store:\n  readers: 0\n", "test.yaml:2: store.readers: must be a whole number from 1 to 64"),
            ("log:\n  target: syslog\n", "test.yaml:2: log.target: must be auto, journal or stderr"),
            ("mcp:\n  default_agent: \"two words\"\n", "test.yaml:2: mcp.default_agent: must be an agent id"),
        ]
        for (yaml, message) in cases {
            #expect(throws: ConfigurationError.self) { try load(yaml) }
            do {
                _ = try load(yaml)
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }

    @Test func apiKeysWebhookSecretsAndRecallWeightsAreRead() async throws {
        let configuration = try load(
            """
            auth:
              keys:
                - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
                  scope: write
                  agents: "support-customer-*"
            webhooks:
              secrets: ["whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="]
              beacon_ttl: 1h
            http:
              listen: 0.0.0.0:3300
              max_body: 512KiB
            recall:
              relevance_weight: 1
              recency_half_life: 1d
            """)
        #expect(configuration.http.keys.count == 1)
        #expect(configuration.http.keys[0].scope == .write)
        #expect(configuration.http.keys[0].agents.matches("support-customer-1"))
        #expect(configuration.http.webhookSecrets.count == 1)
        #expect(configuration.http.beaconLifetime == 3_600_000)
        #expect(configuration.http.maxBody == 512 * 1024)
        #expect(configuration.http.recall.relevance == 1 && configuration.http.recall.recencyHalfLife == 86_400_000)
    }

    @Test func badAPIAndWebhookSettingsAreNamed() {
        let cases: [(String, String)] = [
            ("auth:\n  keys:\n    - {sha256: abc, scope: write}\n", "auth.keys[0]: sha256 must be the 64 hex digits"),
            ("auth:\n  keys:\n    - {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, scope: root}\n", "auth.keys[0]: scope must be read, write or admin"),
            ("auth:\n  keys:\n    - {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, scope: read, key: x}\n", "auth.keys[0]: key is not a field of a key"),
            ("webhooks:\n  secrets: [\"not base64!\"]\n", "test.yaml:2: webhooks.secrets: each secret must be whsec_"),
            ("http:\n  max_body: 2GiB\n", "test.yaml:2: http.max_body: must be a size"),
            ("http:\n  listen: 0.0.0.0:3300\n", "http.listen: must be a loopback address while auth.keys is empty"),
        ]
        for (yaml, message) in cases { expectRefused(yaml, message) }
    }

    /// Values that used to pass `check-config` and then overflow in serve: every duration and
    /// count is bounded where it is read.
    @Test(arguments: [
        ("sessions:\n  idle_timeout: 106751991166d\n", "test.yaml:2: sessions.idle_timeout: must be at most 100 years"),
        ("orphans:\n  max_sleep: 106751991166d\n", "test.yaml:2: orphans.max_sleep: must be at most 100 years"),
        ("orphans:\n  max_sleep: 9223372036854775807ms\n", "test.yaml:2: orphans.max_sleep: must be at most 100 years"),
        ("consolidation:\n  min_age: 36525001d\n", "test.yaml:2: consolidation.min_age: must be at most 100 years"),
        ("jobs:\n  decay: {interval: 99999999999h}\n", "test.yaml:2: jobs.decay.interval: must be at most 100 years"),
        ("decay:\n  batch_size: 9223372036854775807\n", "test.yaml:2: decay.batch_size: must be a whole number from 1 to"),
        ("recall:\n  importance_weight: 1e308\n", "test.yaml:2: recall.importance_weight: must be a number from 0 to"),
    ])
    func outOfRangeNumbersAreRefusedAtLoad(yaml: String, message: String) {
        expectRefused(yaml, message)
    }

    @Test func theLongestAcceptedDurationsStillComputeDeadlines() async throws {
        let configuration = try load("sessions:\n  idle_timeout: 36524d\norphans:\n  max_sleep: 36524d\n")
        #expect(configuration.store.defaultIdleTimeoutSeconds == 36524 * 86_400)
        #expect(configuration.maintenance.orphans.maxSleep == .seconds(36524 * 86_400))
    }

    /// Fail closed: a key without `agents:` is an error, not a key for every tenant.
    @Test func anAPIKeyWithoutAgentsIsRefused() {
        let yaml = "auth:\n  keys:\n    - {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, scope: admin}\n"
        do {
            _ = try load(yaml)
            Issue.record("a key without agents was accepted")
        } catch {
            #expect(error.description.contains("auth.keys[0]: agents is required"), "\(error.description)")
        }
        #expect(throws: Never.self) { try load(yaml.replacingOccurrences(of: "scope: admin", with: #"scope: admin, agents: "*""#)) }
    }

    @Test func aReloadNamesExactlyTheHTTPKeysThatChanged() {
        var webhooks = AppConfiguration()
        webhooks.http.webhookSecrets = ["whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="]
        #expect(AppConfiguration().keysNeedingRestart(comparedWith: webhooks) == ["webhooks.secrets"])
        var body = AppConfiguration()
        body.http.maxBody = 4096
        #expect(AppConfiguration().keysNeedingRestart(comparedWith: body) == ["http.max_body"])
    }

    @Test func aReloadListsTheKeysThatNeedARestart() async throws {
        var changed = AppConfiguration()
        changed.http.port = 9999
        changed.logLevel = .debug
        changed.maintenance.decay.batchSize = 5
        #expect(AppConfiguration().keysNeedingRestart(comparedWith: changed) == ["http.listen", "log.level"])
    }

    @Test func theSummarizerAndItsModelKeysNeedARestart() async throws {
        var changed = AppConfiguration()
        changed.maintenance.consolidation.summarizer = .llm
        changed.llm.maxTokensPerDay = 5
        #expect(AppConfiguration().keysNeedingRestart(comparedWith: changed) == ["llm", "consolidation.summarizer"])
    }
}

@Suite struct ConsolidationConfigurationTests {
    func load(_ yaml: String) throws(ConfigurationError) -> AppConfiguration { try loadTestYAML(yaml) }

    @Test func topicSummaryKeysAreRead() throws {
        let consolidation = try load(
            """
            consolidation:
              max_topics: 3
              max_summary_chars: 500
              min_fact_importance: 0.4
              duplicate_similarity: 0.9
              summary_importance: 0.7
              max_live_chars: 20000
            """
        ).maintenance.consolidation
        #expect(consolidation.maxTopics == 3 && consolidation.maxSummaryCharacters == 500)
        #expect(consolidation.minFactImportance == 0.4 && consolidation.duplicateSimilarity == 0.9)
        #expect(consolidation.summaryImportance == .fixed(0.7))
        #expect(consolidation.maxLiveCharacters == 20000)
        #expect(try load("consolidation:\n  summary_importance: auto\n").maintenance.consolidation.summaryImportance == .auto)
    }

    @Test(arguments: [
        ("summary_importance: high", "consolidation.summary_importance: must be auto or a number between 0 and 1"),
        ("max_topics: 0", "consolidation.max_topics: must be a whole number from 1 to 32"),
        ("max_summary_chars: 10", "consolidation.max_summary_chars: must be a whole number from 80 to 100000"),
        ("min_fact_importance: 2", "consolidation.min_fact_importance: must be a number between 0 and 1"),
        ("duplicate_similarity: 0.3", "consolidation.duplicate_similarity: must be at least 0.5"),
        ("max_live_chars: 10", "consolidation.max_live_chars: must be a whole number from 1000 to"),
    ])
    func badValuesNameTheKey(line: String, message: String) {
        expectRefused("consolidation:\n  \(line)\n", message)
    }
}

@Suite struct LLMConfigurationTests {
    func load(_ yaml: String) throws(ConfigurationError) -> AppConfiguration { try loadTestYAML(yaml) }

    @Test func llmKeysAreRead() throws {
        let configuration = try load(
            """
            consolidation:
              summarizer: llm
            llm:
              url: http://127.0.0.1:11434/v1
              model: qwen2.5:7b
              timeout: 20s
              temperature: 0.2
              max_output_tokens: 800
              must_keep_importance: 0.7
              max_concurrency: 4
              max_tokens_per_run: 20000
              max_tokens_per_day: none
              extra_headers: {api-key: azure-secret, X-Title: memkeep}
            """)
        #expect(configuration.maintenance.consolidation.summarizer == .llm)
        #expect(configuration.llm.url == "http://127.0.0.1:11434/v1" && configuration.llm.model == "qwen2.5:7b")
        #expect(configuration.llm.timeout == .seconds(20) && configuration.llm.temperature == 0.2)
        #expect(configuration.llm.maxOutputTokens == 800 && configuration.llm.mustKeepImportance == 0.7)
        #expect(configuration.llm.maxConcurrency == 4)
        #expect(configuration.llm.budget == TokenBudget(perRun: 20_000, perDay: nil))
        #expect(configuration.llm.extraHeaders == ["api-key": "azure-secret", "X-Title": "memkeep"])
    }

    @Test(arguments: [
        ("consolidation:\n  summarizer: gpt\n", "consolidation.summarizer: must be extractive or llm"),
        ("llm:\n  url: ftp://x\n", "llm.url: must be an http:// or https:// URL"),
        ("llm:\n  temperature: 3\n", "llm.temperature: must be a number from 0 to 2"),
        ("llm:\n  max_output_tokens: 1\n", "llm.max_output_tokens: must be a whole number from 16 to 100000"),
        ("consolidation:\n  summarizer: llm\nllm:\n  url: http://h/v1\n", "llm.model: is required with consolidation.summarizer llm"),
        ("llm:\n  max_tokens_per_day: 0\n", "llm.max_tokens_per_day: must be a whole number of tokens from 1 to 1000000000000, or none"),
        ("llm:\n  max_tokens_per_run: lots\n", "llm.max_tokens_per_run: must be a whole number of tokens from 1 to 1000000000000, or none"),
        ("llm:\n  extra_headers: [a, b]\n", "llm.extra_headers: must map header names to values"),
        ("llm:\n  extra_headers: {\"Bad Name\": x}\n", "llm.extra_headers.Bad Name: is not a header name"),
        ("llm:\n  extra_headers: {Authorization: x}\n", "llm.extra_headers.Authorization: is set by memkeepd"),
        ("llm:\n  extra_headers: {X-A: [1]}\n", "llm.extra_headers.X-A: must be a single-line value"),
    ])
    func badLLMValuesNameTheKey(yaml: String, message: String) {
        expectRefused(yaml, message)
    }
}

/// `yaml` loaded as test.yaml and validated, as `memkeepd check-config` does.
func loadTestYAML(_ yaml: String) throws(ConfigurationError) -> AppConfiguration {
    var configuration = AppConfiguration()
    try ConfigurationLoader.apply(yaml: yaml, source: "test.yaml", to: &configuration)
    try ConfigurationLoader.validate(configuration, source: "test.yaml")
    return configuration
}

/// `yaml` is refused with an error that says `message`.
func expectRefused(_ yaml: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try loadTestYAML(yaml)
        Issue.record("accepted: \(yaml)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description.contains(message), "\(error.description)", sourceLocation: sourceLocation)
    }
}
