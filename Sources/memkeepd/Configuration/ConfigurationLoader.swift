import Foundation
import HTTPAPI
import Logging
import Maintenance
import MemoryService
import MemoryStore
import Systemd
import Yams

/// Reads `memkeep.yaml` and `MEMKEEP_<SECTION>_<KEY>` variables into an `AppConfiguration`.
/// Unknown keys and bad values are errors naming the key and the line: a typo must not
/// silently fall back to a default.
struct ConfigurationLoader {
    typealias Apply = (inout AppConfiguration, String) throws(ConfigReason) -> Void

    /// Every scalar key: its path and how it is applied.
    static var scalarKeys: [(String, Apply)] { storeKeys + generalKeys + consolidationKeys }

    static var storeKeys: [(String, Apply)] { [
        ("store.url", { c, v throws(ConfigReason) in c.storeURL = try ConfigValue.storeLocation(v) }),
        ("store.path", { c, v throws(ConfigReason) in c.storePath = try ConfigValue.storeLocation(v) }),
        ("store.password_file", { c, v throws(ConfigReason) in c.storePasswordFile = v.isEmpty ? nil : v }),
        ("store.connections", { c, v throws(ConfigReason) in c.store.connections = try ConfigValue.int(v, in: 2...500) }),
        ("store.busy_timeout", { c, v throws(ConfigReason) in
            let d = try ConfigValue.duration(v)
            guard d > .zero else { throw ConfigReason("must be more than 0: a zero busy timeout fails writers at once") }
            c.store.busyTimeout = d
        }),
        ("store.readers", { c, v throws(ConfigReason) in c.store.readers = try ConfigValue.int(v, in: 1...64) }),
    ] }

    static var consolidationKeys: [(String, Apply)] { [
        ("consolidation.max_sessions", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.maxSessions = try ConfigValue.positiveInt(v)
        }),
        ("consolidation.batch_sessions", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.batchSessions = try ConfigValue.positiveInt(v)
        }),
        ("consolidation.min_age", { c, v throws(ConfigReason) in c.maintenance.consolidation.minAge = try ConfigValue.millis(v) }),
        ("consolidation.summary_importance", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.summaryImportance =
                v == "auto" ? .auto : .fixed(try ConfigValue.fraction(v, orWord: "auto"))
        }),
        ("consolidation.summarizer", { c, v throws(ConfigReason) in
            guard let kind = MaintenanceConfiguration.SummarizerKind(rawValue: v) else {
                throw ConfigReason("must be extractive or llm")
            }
            c.maintenance.consolidation.summarizer = kind
        }),
        ("llm.url", { c, v throws(ConfigReason) in c.llm.url = try ConfigValue.httpURL(v) }),
        ("llm.model", { c, v throws(ConfigReason) in c.llm.model = v.isEmpty ? nil : v }),
        ("llm.api_key_file", { c, v throws(ConfigReason) in c.llm.apiKeyFile = v.isEmpty ? nil : v }),
        ("llm.timeout", { c, v throws(ConfigReason) in c.llm.timeout = try ConfigValue.positiveDuration(v) }),
        ("llm.max_concurrency", { c, v throws(ConfigReason) in c.llm.maxConcurrency = try ConfigValue.int(v, in: 1...64) }),
        ("llm.temperature", { c, v throws(ConfigReason) in
            guard let value = Double(v), (0...2).contains(value) else { throw ConfigReason("must be a number from 0 to 2") }
            c.llm.temperature = value
        }),
        ("llm.max_output_tokens", { c, v throws(ConfigReason) in
            c.llm.maxOutputTokens = try ConfigValue.int(v, in: 16...100_000)
        }),
        ("llm.must_keep_importance", { c, v throws(ConfigReason) in c.llm.mustKeepImportance = try ConfigValue.fraction(v) }),
        ("llm.breaker_failures", { c, v throws(ConfigReason) in c.llm.breakerFailures = try ConfigValue.int(v, in: 1...1000) }),
        ("llm.breaker_cooldown", { c, v throws(ConfigReason) in c.llm.breakerCooldown = try ConfigValue.positiveDuration(v) }),
        ("llm.max_tokens_per_run", { c, v throws(ConfigReason) in c.llm.maxTokensPerRun = try ConfigValue.tokenBudget(v) }),
        ("llm.max_tokens_per_day", { c, v throws(ConfigReason) in c.llm.maxTokensPerDay = try ConfigValue.tokenBudget(v) }),
        ("consolidation.archive_retention", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.archiveRetention = try ConfigValue.millis(v)
        }),
        ("consolidation.max_summary_facts", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.maxSummaryFacts = try ConfigValue.positiveInt(v)
        }),
        ("consolidation.max_summary_chars", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.maxSummaryCharacters = try ConfigValue.int(v, in: 80...100_000)
        }),
        ("consolidation.max_topics", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.maxTopics = try ConfigValue.int(v, in: 1...32)
        }),
        ("consolidation.min_fact_importance", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.minFactImportance = try ConfigValue.fraction(v)
        }),
        ("consolidation.duplicate_similarity", { c, v throws(ConfigReason) in
            let similarity = try ConfigValue.fraction(v)
            guard similarity >= 0.5 else {
                throw ConfigReason("must be at least 0.5: lower similarities join facts that only share a topic")
            }
            c.maintenance.consolidation.duplicateSimilarity = similarity
        }),
        ("consolidation.max_live_chars", { c, v throws(ConfigReason) in
            c.maintenance.consolidation.maxLiveCharacters = v.isEmpty ? nil : try ConfigValue.int(v, in: 1000...Int(Int32.max))
        }),
    ] }

    static var generalKeys: [(String, Apply)] { [
        ("sessions.idle_timeout", { c, v throws(ConfigReason) in
            c.store.defaultIdleTimeoutSeconds = try ConfigValue.millis(v) / 1000
        }),
        ("orphans.max_sleep", { c, v throws(ConfigReason) in c.maintenance.orphans.maxSleep = try ConfigValue.duration(v) }),
        ("orphans.batch_size", { c, v throws(ConfigReason) in c.maintenance.orphans.batchSize = try ConfigValue.positiveInt(v) }),
        ("decay.archive_below", { c, v throws(ConfigReason) in c.maintenance.decay.archiveBelow = try ConfigValue.fraction(v) }),
        ("decay.batch_size", { c, v throws(ConfigReason) in c.maintenance.decay.batchSize = try ConfigValue.positiveInt(v) }),
        ("purge.batch_size", { c, v throws(ConfigReason) in c.maintenance.purge.batchSize = try ConfigValue.positiveInt(v) }),
        ("purge.export_dir", { c, v throws(ConfigReason) in c.maintenance.purge.exportDirectory = v.isEmpty ? nil : v }),
        ("purge.job_runs_retention", { c, v throws(ConfigReason) in
            c.maintenance.purge.jobRunsRetention = try ConfigValue.millis(v)
        }),
        ("jobs.batch_pause", { c, v throws(ConfigReason) in c.maintenance.jobs.batchPause = try ConfigValue.duration(v) }),
        ("jobs.contended_pause", { c, v throws(ConfigReason) in c.maintenance.jobs.contendedPause = try ConfigValue.duration(v) }),
        ("jobs.max_batch_time", { c, v throws(ConfigReason) in
            c.maintenance.jobs.maxBatchTime = try ConfigValue.positiveDuration(v)
        }),
        ("jobs.lease_ttl", { c, v throws(ConfigReason) in
            let d = try ConfigValue.duration(v)
            guard d >= .seconds(1) else { throw ConfigReason("must be at least 1s") }
            c.maintenance.jobs.leaseTTL = d
        }),
        ("jobs.backoff_initial", { c, v throws(ConfigReason) in
            c.maintenance.jobs.backoffInitial = try ConfigValue.positiveDuration(v)
        }),
        ("jobs.backoff_max", { c, v throws(ConfigReason) in
            c.maintenance.jobs.backoffMax = try ConfigValue.positiveDuration(v)
        }),
        ("http.listen", { c, v throws(ConfigReason) in
            guard let (host, port) = HTTPConfiguration.parseListen(v) else {
                throw ConfigReason("must be host:port, [ipv6]:port or :port, with a port from 0 to 65535")
            }
            c.http.host = host
            c.http.port = port
        }),
        ("http.max_body", { c, v throws(ConfigReason) in c.http.maxBody = try ConfigValue.byteSize(v) }),
        ("http.max_connections", { c, v throws(ConfigReason) in c.http.maxConnections = try ConfigValue.positiveInt(v) }),
        ("http.idle_timeout", { c, v throws(ConfigReason) in c.http.idleTimeout = try ConfigValue.positiveDuration(v) }),
        ("http.header_timeout", { c, v throws(ConfigReason) in c.http.limits.header = try ConfigValue.positiveDuration(v) }),
        ("http.body_timeout", { c, v throws(ConfigReason) in c.http.limits.body = try ConfigValue.positiveDuration(v) }),
        ("webhooks.beacon_ttl", { c, v throws(ConfigReason) in c.http.beaconLifetime = try ConfigValue.positiveDuration(v).milliseconds }),
        ("recall.relevance_weight", { c, v throws(ConfigReason) in c.http.recall.relevance = try ConfigValue.nonNegative(v) }),
        ("recall.importance_weight", { c, v throws(ConfigReason) in c.http.recall.importance = try ConfigValue.nonNegative(v) }),
        ("recall.recency_weight", { c, v throws(ConfigReason) in c.http.recall.recency = try ConfigValue.nonNegative(v) }),
        ("recall.lexical_weight", { c, v throws(ConfigReason) in c.http.recall.lexical = try ConfigValue.fraction(v) }),
        ("recall.session_weight", { c, v throws(ConfigReason) in c.http.recall.session = try ConfigValue.fraction(v) }),
        ("recall.recency_half_life", { c, v throws(ConfigReason) in
            c.http.recall.recencyHalfLife = try ConfigValue.positiveDuration(v).milliseconds
        }),
        ("embeddings.provider", { c, v throws(ConfigReason) in
            guard let provider = EmbeddingsConfiguration.Provider(rawValue: v) else {
                throw ConfigReason("must be one of auto, builtin, openai, none")
            }
            c.embeddings.provider = provider
        }),
        ("embeddings.model_dir", { c, v throws(ConfigReason) in
            guard !v.isEmpty else { throw ConfigReason("must not be empty") }
            c.embeddings.modelDirectory = v
        }),
        ("embeddings.threads", { c, v throws(ConfigReason) in
            c.embeddings.threads = try ConfigValue.int(v, in: 1...64)
        }),
        ("embeddings.embed_on_store", { c, v throws(ConfigReason) in
            guard let flag = Bool(v) else { throw ConfigReason("must be true or false") }
            c.embeddings.embedOnStore = flag
        }),
        ("embeddings.url", { c, v throws(ConfigReason) in c.embeddings.url = try ConfigValue.httpURL(v) }),
        ("embeddings.model", { c, v throws(ConfigReason) in c.embeddings.model = v.isEmpty ? nil : v }),
        ("embeddings.api_key_file", { c, v throws(ConfigReason) in c.embeddings.apiKeyFile = v.isEmpty ? nil : v }),
        ("embeddings.dimensions", { c, v throws(ConfigReason) in
            c.embeddings.dimensions = v.isEmpty ? nil : try ConfigValue.int(v, in: 1...65_536)
        }),
        ("embeddings.batch_size", { c, v throws(ConfigReason) in
            let size = try ConfigValue.int(v, in: 1...2048)
            c.embeddings.batchSize = size
            c.maintenance.embed.batchSize = size
        }),
        ("embeddings.timeout", { c, v throws(ConfigReason) in c.embeddings.timeout = try ConfigValue.positiveDuration(v) }),
        ("embeddings.retries", { c, v throws(ConfigReason) in
            c.embeddings.retries = try ConfigValue.int(v, in: 0...20)
        }),
        ("embeddings.cache_mb", { c, v throws(ConfigReason) in
            let megabytes = try ConfigValue.int(v, in: 1...(1 << 20))
            c.embeddings.cacheMB = megabytes
            c.store.vectorCacheBytes = megabytes << 20
        }),
        ("shutdown.grace", { c, v throws(ConfigReason) in c.shutdownGrace = try ConfigValue.positiveDuration(v) }),
        ("mcp.default_agent", { c, v throws(ConfigReason) in
            do { try Validation.agentID(v, field: "mcp.default_agent") } catch { throw ConfigReason("must be an agent id: \(error)") }
            c.mcpDefaultAgent = v
        }),
        ("log.target", { c, v throws(ConfigReason) in
            guard let target = LogTarget(rawValue: v) else { throw ConfigReason("must be auto, journal or stderr") }
            c.logTarget = target
        }),
        ("log.level", { c, v throws(ConfigReason) in
            guard let level = Logger.Level(rawValue: v) else {
                throw ConfigReason("must be one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }),
    ] + JobName.allCases.flatMap { job -> [(String, Apply)] in
        [
            ("jobs.\(job.rawValue).budget", { c, v throws(ConfigReason) in
                c.maintenance.jobs.budget[job] = try ConfigValue.positiveDuration(v)
            }),
            ("jobs.\(job.rawValue).timeout", { c, v throws(ConfigReason) in
                c.maintenance.jobs.timeout[job] = try ConfigValue.positiveDuration(v)
            }),
        ]
    } + Scheduler.intervalJobs.flatMap { job -> [(String, Apply)] in
        [
            ("jobs.\(job.rawValue).interval", { c, v throws(ConfigReason) in
                c.maintenance.jobs.interval[job] = try ConfigValue.positiveDuration(v)
            }),
            ("jobs.\(job.rawValue).jitter", { c, v throws(ConfigReason) in
                c.maintenance.jobs.jitter[job] = try ConfigValue.duration(v)
            }),
        ]
    } }

    /// Loads `path` (nil: `config/memkeep.yaml` if it exists, else the built-in defaults), then
    /// the environment.
    static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(
        ConfigurationError
    ) -> AppConfiguration {
        var configuration = AppConfiguration()
        let filePath = resolvedPath(path)
        if let filePath {
            guard let data = FileManager.default.contents(atPath: filePath) else {
                throw ConfigurationError(source: filePath, line: nil, key: "", reason: "cannot read the file")
            }
            try apply(yaml: String(decoding: data, as: UTF8.self), source: filePath, to: &configuration)
        }
        try applyEnvironment(environment, to: &configuration)
        try validate(configuration, source: filePath ?? "configuration")
        return configuration.resolvingPaths(environment: environment)
    }

    /// The file a load reads: `path`, else `config/memkeep.yaml` when it exists, else none.
    static func resolvedPath(_ path: String?) -> String? {
        path ?? (FileManager.default.fileExists(atPath: AppConfiguration.defaultPath) ? AppConfiguration.defaultPath : nil)
    }

    static func apply(yaml: String, source: String, to configuration: inout AppConfiguration) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(source: source, line: error.line, key: "", reason: "not valid YAML: \(error)")
        } catch {
            throw ConfigurationError(source: source, line: nil, key: "", reason: "not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let mapping = root.mapping else {
            throw ConfigurationError(source: source, line: root.mark?.line, key: "", reason: "must be a mapping of sections")
        }
        let scalars = Dictionary(uniqueKeysWithValues: scalarKeys)
        for (sectionNode, sectionValue) in mapping {
            let section = sectionNode.string ?? ""
            guard let entries = sectionValue.mapping else {
                if sectionValue.null != nil { continue }
                throw ConfigurationError(
                    source: source, line: sectionValue.mark?.line ?? sectionNode.mark?.line, key: section,
                    reason: "must be a mapping")
            }
            for (keyNode, valueNode) in entries {
                let key = "\(section).\(keyNode.string ?? "")"
                let line = valueNode.mark?.line ?? keyNode.mark?.line
                func fail(_ reason: String) -> ConfigurationError {
                    ConfigurationError(source: source, line: line, key: key, reason: reason)
                }
                if let apply = scalars[key] {
                    if valueNode.null != nil, key == "purge.export_dir" { continue }
                    guard let text = valueNode.scalar?.string else { throw fail("must be a single value") }
                    do { try apply(&configuration, text) } catch { throw fail(error.text) }
                } else if key == "decay.archived" {
                    do { configuration.maintenance.decay.archived = try policy(valueNode) } catch { throw fail(error.text) }
                } else if key == "auth.keys" {
                    try apiKeys(valueNode, key: key, source: source, into: &configuration)
                } else if key == "webhooks.secrets" {
                    try webhookSecrets(valueNode, key: key, source: source, into: &configuration)
                } else if key == "decay.policies" {
                    try policies(valueNode, key: key, source: source, into: &configuration)
                } else if key == "llm.extra_headers" {
                    try extraHeaders(valueNode, key: key, source: source, into: &configuration)
                } else if section == "jobs", JobName(rawValue: keyNode.string ?? "") != nil, let job = valueNode.mapping {
                    for (field, value) in job {
                        let jobKey = "\(key).\(field.string ?? "")"
                        guard let apply = scalars[jobKey], let text = value.scalar?.string else {
                            let reason =
                                jobKey == "jobs.orphans.interval" || jobKey == "jobs.orphans.jitter"
                                ? "is not a key: the orphan sweep runs at idle deadlines (see orphans.max_sleep)"
                                : "is not a known key"
                            throw ConfigurationError(source: source, line: value.mark?.line, key: jobKey, reason: reason)
                        }
                        do { try apply(&configuration, text) } catch {
                            throw ConfigurationError(source: source, line: value.mark?.line, key: jobKey, reason: error.text)
                        }
                    }
                } else {
                    throw ConfigurationError(
                        source: source, line: keyNode.mark?.line, key: key, reason: "is not a known key")
                }
            }
        }
    }

    static func policies(_ node: Node, key: String, source: String, into configuration: inout AppConfiguration)
        throws(ConfigurationError)
    {
        if node.null != nil { return }
        guard let mapping = node.mapping else {
            throw ConfigurationError(
                source: source, line: node.mark?.line, key: key, reason: "must map memory types to policies")
        }
        for (typeNode, policyNode) in mapping {
            let typeKey = "\(key).\(typeNode.string ?? "")"
            guard let type = MemoryType(rawValue: typeNode.string ?? "") else {
                throw ConfigurationError(
                    source: source, line: typeNode.mark?.line, key: typeKey,
                    reason: "is not a memory type (episodic, semantic, procedural, working)")
            }
            do {
                configuration.maintenance.decay.policies[type] = try policy(policyNode)
            } catch {
                throw ConfigurationError(source: source, line: policyNode.mark?.line, key: typeKey, reason: error.text)
            }
        }
    }

    /// `- {sha256: <64 hex>, scope: read|write|admin, agents: "pattern*"}` entries.
    static func apiKeys(_ node: Node, key: String, source: String, into configuration: inout AppConfiguration)
        throws(ConfigurationError)
    {
        if node.null != nil { return }
        guard let entries = node.sequence else {
            throw ConfigurationError(source: source, line: node.mark?.line, key: key, reason: "must be a list of keys")
        }
        for (index, entry) in entries.enumerated() {
            func fail(_ reason: String) -> ConfigurationError {
                ConfigurationError(source: source, line: entry.mark?.line, key: "\(key)[\(index)]", reason: reason)
            }
            guard let fields = entry.mapping else { throw fail("must be a mapping with sha256, scope and agents") }
            var values: [String: String] = [:]
            for (name, value) in fields {
                let field = name.string ?? ""
                guard ["sha256", "scope", "agents"].contains(field) else { throw fail("\(field) is not a field of a key") }
                guard let text = value.scalar?.string else { throw fail("\(field) must be a single value") }
                values[field] = text
            }
            guard let digest = values["sha256"].flatMap(APIKey.digest(hex:)) else {
                throw fail("sha256 must be the 64 hex digits of the key's SHA-256 (printf %s KEY | sha256sum)")
            }
            guard let scope = values["scope"].flatMap(Scope.init(rawValue:)) else {
                throw fail("scope must be read, write or admin")
            }
            // Fail closed: a key reaches every tenant only when the file says so.
            guard let agents = values["agents"], !agents.isEmpty else {
                throw fail("agents is required: an agent-id pattern such as \"support-customer-*\", or \"*\" for every agent")
            }
            configuration.http.keys.append(APIKey(sha256: digest, scope: scope, agents: AgentPattern(agents)))
        }
    }

    /// `["whsec_<base64>", …]`: several during a key rotation.
    static func webhookSecrets(_ node: Node, key: String, source: String, into configuration: inout AppConfiguration)
        throws(ConfigurationError)
    {
        if node.null != nil { return }
        guard let entries = node.sequence else {
            throw ConfigurationError(source: source, line: node.mark?.line, key: key, reason: "must be a list of whsec_ secrets")
        }
        for entry in entries {
            guard let secret = entry.scalar?.string, WebhookVerifier.key(fromSecret: secret) != nil else {
                throw ConfigurationError(
                    source: source, line: entry.mark?.line, key: key, reason: "each secret must be whsec_ followed by base64")
            }
            configuration.http.webhookSecrets.append(secret)
        }
    }

    /// `{Header-Name: value, …}`, sent with every chat request (Azure's `api-key`, OpenRouter's
    /// `X-Title`). The values may be secrets: never logged.
    static func extraHeaders(_ node: Node, key: String, source: String, into configuration: inout AppConfiguration)
        throws(ConfigurationError)
    {
        if node.null != nil { return }
        guard let mapping = node.mapping else {
            throw ConfigurationError(source: source, line: node.mark?.line, key: key, reason: "must map header names to values")
        }
        for (nameNode, valueNode) in mapping {
            let name = nameNode.string ?? ""
            let headerKey = "\(key).\(name)"
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.headerNameCharacters.contains) else {
                throw ConfigurationError(
                    source: source, line: nameNode.mark?.line, key: headerKey,
                    reason: "is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)")
            }
            if ["authorization", "content-type", "content-length", "host"].contains(name.lowercased()) {
                throw ConfigurationError(
                    source: source, line: nameNode.mark?.line, key: headerKey,
                    reason: "is set by memkeepd (the key comes from llm.api_key_file)")
            }
            guard let value = valueNode.scalar?.string, !value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw ConfigurationError(
                    source: source, line: valueNode.mark?.line, key: headerKey, reason: "must be a single-line value")
            }
            configuration.llm.extraHeaders[name] = value
        }
    }

    static let headerNameCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")

    /// `{strategy: exponential, half_life: 30d, floor: 0}`, `{strategy: linear, per_day: 0.01,
    /// floor: 0}` or `{strategy: step, steps: [{after: 7d, factor: 0.5}], floor: 0}`.
    static func policy(_ node: Node) throws(ConfigReason) -> DecayPolicy {
        guard let mapping = node.mapping else { throw ConfigReason("must be a policy mapping with a strategy") }
        var fields: [String: Node] = [:]
        for (key, value) in mapping { fields[key.string ?? ""] = value }
        func scalar(_ name: String) throws(ConfigReason) -> String {
            guard let text = fields[name]?.scalar?.string else { throw ConfigReason("needs \(name)") }
            return text
        }
        let floor = try fields["floor"] == nil ? 0 : ConfigValue.fraction(scalar("floor"))
        let strategy = try scalar("strategy")
        let allowed: Set<String>
        let policy: DecayPolicy
        switch strategy {
        case "exponential":
            allowed = ["strategy", "half_life", "floor"]
            let halfLife = try ConfigValue.millis(scalar("half_life"))
            guard halfLife > 0 else { throw ConfigReason("half_life must be more than 0") }
            policy = .exponential(halfLife: halfLife, floor: floor)
        case "linear":
            allowed = ["strategy", "per_day", "floor"]
            policy = .linear(perDay: try ConfigValue.nonNegative(scalar("per_day")), floor: floor)
        case "step":
            allowed = ["strategy", "steps", "floor"]
            guard let steps = fields["steps"]?.sequence, steps.count > 0 else {
                throw ConfigReason("needs steps: a list of {after, factor}")
            }
            var parsed: [DecayPolicy.Step] = []
            for step in steps {
                guard let after = step["after"]?.string, let factor = step["factor"]?.string else {
                    throw ConfigReason("each step needs after and factor")
                }
                parsed.append(DecayPolicy.Step(after: try ConfigValue.millis(after), factor: try ConfigValue.fraction(factor)))
            }
            policy = .step(steps: parsed.sorted { $0.after < $1.after }, floor: floor)
        default:
            throw ConfigReason("strategy must be exponential, linear or step")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ConfigReason("\(unknown) is not a field of a \(strategy) policy")
        }
        return policy
    }

    /// `MEMKEEP_STORE_PATH`, `MEMKEEP_CONSOLIDATION_MAX_SESSIONS`, `MEMKEEP_JOBS_DECAY_BUDGET`, …
    static func environmentName(_ key: String) -> String {
        "MEMKEEP_" + key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    static func applyEnvironment(_ environment: [String: String], to configuration: inout AppConfiguration)
        throws(ConfigurationError)
    {
        for (key, apply) in scalarKeys {
            let name = environmentName(key)
            guard let value = environment[name] else { continue }
            do { try apply(&configuration, value) } catch {
                throw ConfigurationError(source: "environment \(name)", line: nil, key: key, reason: error.text)
            }
        }
    }

    /// Rules across keys.
    static func validate(_ configuration: AppConfiguration, source: String) throws(ConfigurationError) {
        let consolidation = configuration.maintenance.consolidation
        if consolidation.batchSessions > consolidation.maxSessions {
            throw ConfigurationError(
                source: source, line: nil, key: "consolidation.batch_sessions",
                reason: "must not exceed consolidation.max_sessions (\(consolidation.maxSessions))")
        }
        let jobs = configuration.maintenance.jobs
        for job in JobName.allCases {
            let budget = jobs.budget[job] ?? .zero
            let timeout = jobs.timeout[job] ?? .zero
            if timeout <= budget {
                throw ConfigurationError(
                    source: source, line: nil, key: "jobs.\(job.rawValue).timeout",
                    reason: "must be longer than the budget (\(budget)): the budget ends a run cleanly, the timeout cancels it")
            }
        }
        if configuration.http.keys.isEmpty, !configuration.http.isLoopback {
            throw ConfigurationError(
                source: source, line: nil, key: "http.listen",
                reason: "must be a loopback address while auth.keys is empty: the API would be open to the network")
        }
        if configuration.maintenance.consolidation.summarizer == .llm {
            for (key, value) in [("llm.url", configuration.llm.url), ("llm.model", configuration.llm.model)] where value == nil {
                throw ConfigurationError(source: source, line: nil, key: key, reason: "is required with consolidation.summarizer llm")
            }
        }
        let embeddings = configuration.embeddings
        if embeddings.provider == .openai {
            for (key, value) in [("embeddings.url", embeddings.url), ("embeddings.model", embeddings.model)] where value == nil {
                throw ConfigurationError(source: source, line: nil, key: key, reason: "is required with embeddings.provider openai")
            }
            if embeddings.dimensions == nil {
                throw ConfigurationError(
                    source: source, line: nil, key: "embeddings.dimensions",
                    reason: "is required with embeddings.provider openai (the size of the server's vectors)")
            }
        }
        if jobs.backoffMax < jobs.backoffInitial {
            throw ConfigurationError(
                source: source, line: nil, key: "jobs.backoff_max", reason: "must not be shorter than jobs.backoff_initial")
        }
    }
}

extension YamlError {
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): mark.line
        default: nil
        }
    }
}
