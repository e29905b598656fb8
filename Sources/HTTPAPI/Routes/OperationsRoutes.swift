import Foundation
import Hummingbird
import Logging
import MemoryService
import MemoryStore
import Prometheus
import Synchronization

/// `/health`, `/health/live`, `/health/ready` and `/metrics`. None of the health routes touches
/// the store: probes every few seconds must not keep an idle daemon busy.
struct OperationsRoutes: Sendable {
    let dependencies: APIDependencies
    let sampler = CounterSampler()

    struct Health: ResponseEncodable {
        var status: String
        var version: String
        var uptimeSeconds: Int64
        var configurationGeneration: Int
        var configurationLoadedAt: Int64
        var scheduler: String
        var recall: RecallMode

        enum CodingKeys: String, CodingKey {
            case status, version, scheduler, recall
            case uptimeSeconds = "uptime_seconds"
            case configurationGeneration = "config_generation"
            case configurationLoadedAt = "config_loaded_at"
        }
    }

    struct Probe: ResponseEncodable {
        var status: String
    }

    static var sessions: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", metricName: "sessions", unitName: "", helpText: "Sessions in the store, by state.") }
    static var memories: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", metricName: "memories", unitName: "",
        helpText: "Memories in the store: live, archived, expired (invisible, not yet purged).") }
    static var storeAccesses: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", subsystem: "store", metricName: "accesses", unitName: "total",
        helpText: "Reads and write transactions this daemon made on the store.") }
    static var groupWrites: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", subsystem: "store", metricName: "group_writes", unitName: "total",
        helpText: "Heartbeats, stores and access marks written through group commit.") }
    static var groupTransactions: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", subsystem: "store", metricName: "group_transactions", unitName: "total",
        helpText: "Transactions that carried them: writes per transaction is what group commit saved.") }
    static var recallVectors: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", subsystem: "recall", metricName: "vectors", unitName: "",
        helpText: "1 while recall ranks by vectors (label model), 0 while by full text only (see /health for why).") }
    static var wakeUps: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "memkeep", subsystem: "scheduler", metricName: "wakeups", unitName: "total",
        helpText: "Times the scheduler's loops woke up from a sleep.") }

    func add(to routes: RouteRegistrar) {
        routes.on(.get, "/health", .open) { request, context in try health().response(from: request, context: context) }
        routes.on(.get, "/health/live", .open) { request, context in
            try Probe(status: "alive").response(from: request, context: context)
        }
        routes.on(.get, "/health/ready", .open) { request, context in
            let state = dependencies.state
            if state.isReady { return try Probe(status: "ready").response(from: request, context: context) }
            var response = try Probe(status: state.isStopping ? "stopping" : "starting").response(from: request, context: context)
            response.status = .serviceUnavailable
            return response
        }
        routes.on(.get, "/metrics") { _, _ in try await metrics() }
    }

    func health() -> Health {
        let now = dependencies.clock.now()
        let configuration = dependencies.state.configuration
        return Health(
            status: dependencies.state.isStopping ? "stopping" : "healthy", version: APIDependencies.version,
            uptimeSeconds: (now - dependencies.state.startedAt) / 1000,
            configurationGeneration: configuration.generation, configurationLoadedAt: configuration.loadedAt / 1000,
            scheduler: dependencies.maintenance.statusLine, recall: dependencies.recallMode)
    }

    /// Prometheus text: the registry (jobs, HTTP) plus the store's sizes, counted at scrape time.
    func metrics() async throws -> Response {
        let registry = dependencies.registry
        do {
            let counts = try await dependencies.store.counts(now: dependencies.clock.now())
            registry.makeGauge(descriptor: Self.sessions, labels: [("state", "open")]).set(Double(counts.openSessions))
            registry.makeGauge(descriptor: Self.sessions, labels: [("state", "ended")]).set(Double(counts.endedSessions))
            for (state, count) in [
                ("live", counts.liveMemories), ("archived", counts.archivedMemories), ("expired", counts.expiredMemories),
            ] {
                registry.makeGauge(descriptor: Self.memories, labels: [("state", state)]).set(Double(count))
            }
        } catch {
            dependencies.logger.error("metrics: cannot count the store: \(error)")
        }
        switch dependencies.recallMode {
        case .vectors(let model): registry.makeGauge(descriptor: Self.recallVectors, labels: [("model", model)]).set(1.0)
        case .fullText: registry.makeGauge(descriptor: Self.recallVectors, labels: [("model", "")]).set(0.0)
        }
        sampler.report(
            dependencies.store.accessCount, as: registry.makeCounter(descriptor: Self.storeAccesses), key: "store")
        let group = dependencies.store.groupCommitCounts
        sampler.report(group.writes, as: registry.makeCounter(descriptor: Self.groupWrites), key: "group_writes")
        sampler.report(
            group.transactions, as: registry.makeCounter(descriptor: Self.groupTransactions), key: "group_transactions")
        sampler.report(
            dependencies.maintenance.wakeUps, as: registry.makeCounter(descriptor: Self.wakeUps),
            key: "wakeups")
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

/// Mirrors a running total kept elsewhere into a Prometheus counter, which only increments.
final class CounterSampler: Sendable {
    private let reported = Mutex<[String: Int]>([:])

    func report(_ total: Int, as counter: Prometheus.Counter, key: String) {
        let delta = reported.withLock { reported -> Int in
            let delta = total - (reported[key] ?? 0)
            reported[key] = total
            return delta
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}
