import Crypto
import Foundation
import MemoryStore

/// What a key may do. Each scope includes the ones below it.
public enum Scope: String, Sendable, Comparable, CaseIterable {
    case read, write, admin

    public static func < (lhs: Scope, rhs: Scope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A configured key: the SHA-256 of the secret (never the secret), its scope and agents.
public struct APIKey: Sendable, Equatable {
    public var sha256: [UInt8]
    public var scope: Scope
    public var agents: AgentPattern

    public init(sha256: [UInt8], scope: Scope, agents: AgentPattern) {
        self.sha256 = sha256
        self.scope = scope
        self.agents = agents
    }

    /// 64 hex digits; nil otherwise.
    public static func digest(hex: String) -> [UInt8]? {
        let digits = Array(hex.lowercased().utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// The configured key a presented secret belongs to. Every key is compared, each in
    /// constant time, so the answer's timing does not tell which bytes matched.
    public static func find(secret: String, in keys: [APIKey]) -> APIKey? {
        let presented = Array(SHA256.hash(data: Array(secret.utf8)))
        var found: APIKey?
        for key in keys where constantTimeEqual(presented, key.sha256) {
            found = found ?? key
        }
        return found
    }

    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Who is calling: anyone (no keys configured, loopback only) or the holder of a key.
public enum Principal: Sendable {
    case open
    case key(APIKey)

    /// Checks scope and agent: another tenant's agent is answered like a missing one.
    public func authorize(_ needed: Scope, agent: String?, notFound: @autoclosure () -> APIError) throws {
        guard case .key(let key) = self else { return }
        if let agent, !key.agents.matches(agent) { throw notFound() }
        guard key.scope >= needed else {
            throw APIError(
                .forbidden, code: "INSUFFICIENT_SCOPE", "this key's scope is \(key.scope.rawValue); this route needs \(needed.rawValue)")
        }
    }

    /// The agents this caller may see, for queries that filter in the store; nil: all of them.
    public var agents: AgentPattern? {
        guard case .key(let key) = self else { return nil }
        return key.agents
    }

    public func sees(agent: String) -> Bool {
        guard case .key(let key) = self else { return true }
        return key.agents.matches(agent)
    }
}
