import Foundation
import Hummingbird
import Logging
import Prometheus

/// Around every request: who is calling (API keys), the error shape, and the HTTP metrics.
struct APIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let keys: [APIKey]
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    /// Routes that carry their own proof (signatures, beacon tokens) or must answer probes.
    static func isPublic(_ path: String) -> Bool {
        path == "/health" || path.hasPrefix("/health/") || path == "/v1/webhooks/session-end"
            || (path.hasPrefix("/v1/sessions/") && path.hasSuffix("/beacon"))
    }

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "memkeep", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests by route, method and status.")
    }

    /// Around the API's 2 ms recall target, up to a second.
    static let buckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]

    static var durations: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "memkeep", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "HTTP request latency by route.")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        var context = context
        let response: Response
        do {
            context.principal = try authenticate(request)
            response = try await next(request, context)
        } catch {
            response = answer(error, request: request)
        }
        let route = context.endpointPath ?? "unmatched"
        registry.makeCounter(
            descriptor: Self.requests,
            labels: [("route", route), ("method", request.method.rawValue), ("status", "\(response.status.code)")]
        ).increment()
        let elapsed = ContinuousClock.now - started
        registry.makeDurationHistogram(
            descriptor: Self.durations, labels: [("route", route)],
            buckets: Self.buckets
        ).record(elapsed)
        return response
    }

    func authenticate(_ request: Request) throws -> Principal {
        guard !keys.isEmpty, !Self.isPublic(request.uri.path) else { return .open }
        let presented =
            request.headers[.authorization].flatMap { header -> String? in
                header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
            } ?? Self.header("x-api-key", in: request)
        guard let presented, !presented.isEmpty else {
            throw APIError(
                .unauthorized, code: "AUTHENTICATION_REQUIRED", "an API key is required: Authorization: Bearer KEY or X-API-Key")
        }
        guard let key = APIKey.find(secret: presented, in: keys) else {
            throw APIError(.unauthorized, code: "INVALID_API_KEY", "the API key is not valid")
        }
        return .key(key)
    }

    /// A header by its lower-case name (for names HTTPTypes has no constant for).
    static func header(_ name: String, in request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == name }?.value
    }

    func answer(_ error: any Error, request: Request) -> Response {
        if let known = APIError.from(error) {
            return APIError.json(status: known.status, code: known.code, message: known.message)
        }
        logger.error("\(request.method) \(request.uri.path) failed: \(error)")
        return APIError.json(status: .internalServerError, code: "INTERNAL_ERROR", message: "internal error; see the daemon's log")
    }
}
