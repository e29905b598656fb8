import Foundation
import Hummingbird
import Logging
import MemoryService
import MemoryStore

extension APIHandlers {
    func addWebhookRoutes(to routes: RouteRegistrar) {
        routes.on(.post, "/v1/webhooks/session-end", .open) { request, _ in
            let bytes = Array((try await JSONBody.collect(request, limit: maxBody)).readableBytesView)
            if let failure = webhooks.verify(
                id: APIMiddleware.header("webhook-id", in: request),
                timestamp: APIMiddleware.header("webhook-timestamp", in: request),
                signature: APIMiddleware.header("webhook-signature", in: request), body: bytes,
                now: dependencies.clock.now())
            {
                throw Self.webhookError(failure)
            }
            let body = try JSONBody.parse(Data(bytes))
            let sessionID = try body.string("session_id")
            try Validation.recordID(sessionID, field: "session_id")
            let reason = try body.optionalString("reason")
            let webhookID = APIMiddleware.header("webhook-id", in: request)!
            let (session, duplicate) = try await store.endSessionByWebhook(id: sessionID, webhookID: webhookID)
            if !duplicate { logClosure(session, via: "webhook \(webhookID)", reason: reason) }
            return JSONResponse.make(.object([
                "session": service.session(session), "session_state": Representation.sessionState(session),
                "duplicate": .bool(duplicate),
            ]))
        }
        routes.on(.post, "/v1/sessions/{id}/beacon", .open) { request, context in
            let sessionID = try context.path("id")
            let text = String(buffer: try await JSONBody.collect(request, limit: 4096))
            let token = (try? JSONValue.parse(text).objectValue).flatMap { fields in
                fields["beacon_token"].flatMap(Self.text) ?? fields["token"].flatMap(Self.text)
            } ?? text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard beacons.isValid(token, sessionID: sessionID, now: dependencies.clock.now()) else {
                throw APIError(.unauthorized, code: "INVALID_TOKEN", "beacon_token is not valid for this session or has expired")
            }
            let (session, _) = try await store.endSessionByWebhook(id: sessionID, webhookID: nil)
            logClosure(session, via: "beacon", reason: nil)
            return JSONResponse.make(.object(["session_state": Representation.sessionState(session)]))
        }
    }

    static func text(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    static func webhookError(_ failure: WebhookVerifier.Failure) -> APIError {
        switch failure {
        case .missingHeader(let name): APIError.invalid(name, "header is required")
        case .badTimestamp: APIError.invalid("webhook-timestamp", "must be Unix seconds")
        case .outsideTolerance:
            APIError(.unauthorized, code: "INVALID_SIGNATURE", "webhook-timestamp is outside the ±5 minute tolerance")
        case .noMatchingSignature:
            APIError(.unauthorized, code: "INVALID_SIGNATURE", "webhook-signature matches none of webhooks.secrets")
        case .noSecrets:
            APIError(.notImplemented, code: "FEATURE_DISABLED", "webhook closure needs webhooks.secrets in the configuration")
        }
    }

    func logClosure(_ session: Session, via source: String, reason: String?) {
        var metadata: Logger.Metadata = [
            LogKey.messageID: .string(MessageID.sessionClosedByWebhook), LogKey.sessionID: .string(session.id),
            LogKey.agentID: .string(session.agentID), "memkeep.source": .string(source),
        ]
        if let reason { metadata["memkeep.reason"] = .string(reason) }
        dependencies.logger.info("session closed by \(source)", metadata: metadata)
    }
}
