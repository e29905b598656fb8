import Crypto
import Foundation
import MemoryService
import MemoryStore

/// Standard Webhooks verification: `webhook-id`, `webhook-timestamp` (Unix seconds) and
/// `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several
/// allowed during key rotation), with secrets written `whsec_<base64>`.
public struct WebhookVerifier: Sendable {
    public let secrets: [SymmetricKey]
    public let tolerance: UnixMillis

    public init(secrets: [SymmetricKey], tolerance: UnixMillis = 300_000) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// The key bytes of `whsec_<base64>` (the prefix is optional); nil when not base64.
    public static func key(fromSecret secret: String) -> SymmetricKey? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        return SymmetricKey(data: bytes)
    }

    public static func sign(id: String, timestamp: String, body: [UInt8], key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    public enum Failure: Error, Equatable {
        case missingHeader(String)
        case badTimestamp
        case outsideTolerance
        case noMatchingSignature
        case noSecrets
    }

    /// Nil when the request is authentic and fresh.
    public func verify(id: String?, timestamp: String?, signature: String?, body: [UInt8], now: UnixMillis) -> Failure? {
        guard let id, !id.isEmpty else { return .missingHeader("webhook-id") }
        guard let timestamp, !timestamp.isEmpty else { return .missingHeader("webhook-timestamp") }
        guard let signature, !signature.isEmpty else { return .missingHeader("webhook-signature") }
        guard !secrets.isEmpty else { return .noSecrets }
        guard let seconds = Int64(timestamp), let sent = UnixMillis.fromSeconds(seconds) else { return .badTimestamp }
        // Subtracting in the order that cannot overflow: `now` and the tolerance are small.
        guard sent >= now - tolerance, sent <= now + tolerance else { return .outsideTolerance }
        let presented = signature.split(separator: " ").compactMap { entry -> [UInt8]? in
            guard entry.hasPrefix("v1,"), let mac = Data(base64Encoded: String(entry.dropFirst(3))) else { return nil }
            return Array(mac)
        }
        var matched = false
        for key in secrets {
            let expected = Array(HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key))
            for candidate in presented where APIKey.constantTimeEqual(candidate, expected) { matched = true }
        }
        return matched ? nil : .noMatchingSignature
    }
}

/// The token a session-start answer carries for `navigator.sendBeacon`, which cannot send
/// headers: `<expiry seconds>.<base64url HMAC-SHA256 of "beacon.<session id>.<expiry>">`.
public struct BeaconTokens: Sendable {
    let key: SymmetricKey
    public let lifetime: UnixMillis

    public init(key: SymmetricKey, lifetime: UnixMillis) {
        self.key = key
        self.lifetime = lifetime
    }

    public func token(sessionID: String, now: UnixMillis) -> String {
        let expiry = (now + lifetime) / 1000
        return "\(expiry).\(mac(sessionID: sessionID, expiry: expiry))"
    }

    public func isValid(_ token: String, sessionID: String, now: UnixMillis) -> Bool {
        let parts = token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let expiry = Int64(parts[0]), let expiresAt = UnixMillis.fromSeconds(expiry), expiresAt >= now
        else { return false }
        return APIKey.constantTimeEqual(Array(parts[1].utf8), Array(mac(sessionID: sessionID, expiry: expiry).utf8))
    }

    func mac(sessionID: String, expiry: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("beacon.\(sessionID).\(expiry)".utf8), using: key)
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
