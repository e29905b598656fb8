import Foundation
import Hummingbird
import Logging
import MemoryService
import MemoryStore
import Prometheus

/// Around every request: the error shape and the HTTP metrics. Who is calling is the
/// authenticator's business, on the routes of its group.
struct APIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let routes: RouteTable

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
        let response: Response
        do {
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

    /// A header by its lower-case name (for names HTTPTypes has no constant for).
    static func header(_ name: String, in request: Request) -> String? {
        request.headers.first { $0.name.canonicalName == name }?.value
    }

    func answer(_ error: any Error, request: Request) -> Response {
        if case StoreError.storageFull(let path, let newEpisode) = error, newEpisode {
            logger.error(
                "the store's disk is full: writes are refused with 507 until space is freed (\(path))",
                metadata: [LogKey.messageID: .string(MessageID.storageFull)])
        }
        if let known = APIError.answer(for: error) {
            if known.code == "ROUTE_NOT_FOUND" {
                let allowed = routes.methods(servedAt: request.uri.path)
                if !allowed.isEmpty {
                    let list = allowed.joined(separator: ", ")
                    return APIError(
                        .methodNotAllowed, code: "METHOD_NOT_ALLOWED",
                        "\(request.method.rawValue) is not allowed here; allowed: \(list)", headers: [.allow: list]
                    ).json
                }
            }
            return known.json
        }
        logger.error("\(request.method) \(request.uri.path) failed: \(error)")
        return APIError(.internalServerError, code: "INTERNAL_ERROR", "internal error; see the daemon's log").json
    }
}

/// The API keys, on the router group of every route that needs one. Routes that carry their own
/// proof (webhook signatures, beacon tokens) or answer probes are registered outside the group,
/// so what is public is decided by the route that matched, never by the path's text.
struct APIAuthenticator: RouterMiddleware {
    typealias Context = APIRequestContext

    let keys: [APIKey]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.principal = try authenticate(request)
        return try await next(request, context)
    }

    func authenticate(_ request: Request) throws -> Principal {
        guard !keys.isEmpty else { return .open }
        guard let presented = Self.bearer(request.headers[.authorization]) ?? APIMiddleware.header("x-api-key", in: request),
            !presented.isEmpty
        else {
            throw APIError(
                .unauthorized, code: "AUTHENTICATION_REQUIRED", "an API key is required: Authorization: Bearer KEY or X-API-Key")
        }
        guard let key = APIKey.find(secret: presented, in: keys) else {
            throw APIError(.unauthorized, code: "INVALID_API_KEY", "the API key is not valid")
        }
        return .key(key)
    }

    /// The credentials of `Bearer KEY`; the scheme is case-insensitive (RFC 9110 §11.1).
    static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return header.dropFirst(7).trimmingCharacters(in: .whitespaces)
    }
}
