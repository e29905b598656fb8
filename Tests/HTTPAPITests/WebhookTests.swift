import Crypto
import Foundation
import HTTPAPI
import Maintenance
import MemoryService
import MemoryStore
import TestSupport
import Testing

@Suite struct WebhookTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let rotated = "whsec_" + Data((0..<32).map { UInt8(255 - $0) }).base64EncodedString()

    func withHarness(
        _ backend: TestBackend, secrets: [String] = [Self.secret, Self.rotated],
        _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        try await APIHarness.with(backend, { $0.webhookSecrets = secrets }, body)
    }

    /// Headers of a Standard Webhooks request signed with `secret`.
    static func signed(_ body: String, id: String, at seconds: Int64, secret: String = secret) -> [String: String] {
        let key = WebhookVerifier.key(fromSecret: secret)!
        return [
            "webhook-id": id, "webhook-timestamp": "\(seconds)",
            "webhook-signature": WebhookVerifier.sign(id: id, timestamp: "\(seconds)", body: Array(body.utf8), key: key),
        ]
    }

    func body(_ session: Session) -> String { #"{"session_id": "\#(session.id)", "reason": "tab closed"}"# }

    @Test(arguments: TestBackend.allCases)
    func aCorrectlySignedRequestClosesTheSessionWithReasonWebhook(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            let now = h.clock.now() / 1000
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/webhooks/session-end", body(session), headers: Self.signed(body(session), id: "msg_1", at: now))
                #expect(reply.status == 200, "\(reply.text)")
                #expect(reply.object["duplicate"] == .bool(false))
                #expect(reply.string("session", "ended_reason") == "webhook")
            }
            #expect(try await h.store.session(id: session.id)?.endedReason == .webhook)
            let entry = try #require(h.logs.entries.first { $0.metadata[LogKey.messageID] == .string(MessageID.sessionClosedByWebhook) })
            #expect(entry.metadata[LogKey.sessionID] == .string(session.id))
            #expect(entry.metadata[LogKey.agentID] == .string("a1"))
            #expect(entry.metadata["memkeep.reason"] == .string("tab closed"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSignatureWithTheRotatedSecretAmongSeveralIsAccepted(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            var rotated = Self.signed(body(session), id: "msg_2", at: h.clock.now() / 1000, secret: Self.rotated)
            rotated["webhook-signature"] = "v1,AAAA " + rotated["webhook-signature"]!
            let headers = rotated
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/webhooks/session-end", body(session), headers: headers)
                #expect(reply.status == 200, "\(reply.text)")
            }
            let outcome = try await h.store.session(id: session.id)?.endedReason
            #expect(outcome == .webhook)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func forgedStaleOrIncompleteRequestsAreRefusedAndChangeNothing(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            let now = h.clock.now() / 1000
            let good = body(session)
            let before = try await h.test.exportText()
            let wrongKey = Self.signed(good, id: "msg_3", at: now, secret: "whsec_" + Data(repeating: 7, count: 32).base64EncodedString())
            let tampered = Self.signed(#"{"session_id": "other"}"#, id: "msg_4", at: now)
            let cases: [(String, [String: String], Int, String)] = [
                ("wrong secret", wrongKey, 401, "webhook-signature matches none"),
                ("body changed after signing", tampered, 401, "webhook-signature matches none"),
                ("5 min 1 s old", Self.signed(good, id: "msg_5", at: now - 301), 401, "outside the ±5 minute tolerance"),
                ("5 min 1 s ahead", Self.signed(good, id: "msg_6", at: now + 301), 401, "outside the ±5 minute tolerance"),
                ("no id", Self.signed(good, id: "msg_7", at: now).filter { $0.key != "webhook-id" }, 400, "webhook-id header is required"),
                ("no timestamp", Self.signed(good, id: "msg_8", at: now).filter { $0.key != "webhook-timestamp" }, 400, "webhook-timestamp header is required"),
                ("no signature", Self.signed(good, id: "msg_9", at: now).filter { $0.key != "webhook-signature" }, 400, "webhook-signature header is required"),
                ("timestamp not a number", Self.signed(good, id: "msg_10", at: now).merging(["webhook-timestamp": "soon"]) { $1 }, 400, "webhook-timestamp must be Unix seconds"),
            ]
            try await h.run { client in
                for (name, headers, status, message) in cases {
                    let reply = try await client.call(.post, "/v1/webhooks/session-end", good, headers: headers)
                    #expect(reply.status == status, "\(name): \(reply.text)")
                    #expect(reply.error.contains(message), "\(name): \(reply.text)")
                }
            }
            #expect(try await h.test.exportText() == before)
            let outcome = try await h.store.session(id: session.id)?.isOpen
            #expect(outcome == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aReplayedWebhookIDIsAcknowledgedWithoutActingAlsoAfterARestart(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let first = try await h.store.startSession(SessionStart(agentID: "a1"))
            let second = try await h.store.startSession(SessionStart(agentID: "a1"))
            let now = h.clock.now() / 1000
            try await h.run { client in
                let headers = Self.signed(body(first), id: "msg_replay", at: now)
                #expect(try await client.call(.post, "/v1/webhooks/session-end", body(first), headers: headers).status == 200)
                // The same id again, even correctly signed over another session: acknowledged, no action.
                let replay = try await client.call(
                    .post, "/v1/webhooks/session-end", body(second), headers: Self.signed(body(second), id: "msg_replay", at: now))
                #expect(replay.status == 200)
                #expect(replay.object["duplicate"] == .bool(true))
            }
            #expect(try await h.store.session(id: second.id)?.isOpen == true)
            let before = try await h.test.exportText()
            let restarted = try h.restarted()
            try await restarted.run { client in
                let replay = try await client.call(
                    .post, "/v1/webhooks/session-end", body(second), headers: Self.signed(body(second), id: "msg_replay", at: now))
                #expect(replay.object["duplicate"] == .bool(true), "\(replay.text)")
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anUnknownSessionIs404AndRecordsNoReceipt(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            let now = h.clock.now() / 1000
            let missing = #"{"session_id": "nope"}"#
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/webhooks/session-end", missing, headers: Self.signed(missing, id: "msg_x", at: now))
                #expect(reply.status == 404)
                // The id was not spent on the failed request.
                let retry = try await client.call(.post, "/v1/webhooks/session-end", body(session), headers: Self.signed(body(session), id: "msg_x", at: now))
                #expect(retry.object["duplicate"] == .bool(false))
            }
            let outcome = try await h.store.session(id: session.id)?.endedReason
            #expect(outcome == .webhook)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func withoutConfiguredSecretsWebhookClosureIsOff(backend: TestBackend) async throws {
        try await withHarness(backend, secrets: []) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/webhooks/session-end", body(session), headers: Self.signed(body(session), id: "m", at: h.clock.now() / 1000))
                #expect(reply.status == 501)
                #expect(reply.error.contains("webhooks.secrets"))
            }
            let outcome = try await h.store.session(id: session.id)?.isOpen
            #expect(outcome == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBeaconWithItsSessionsTokenClosesItAForgedOrExpiredOneDoesNot(backend: TestBackend) async throws {
        try await withHarness(backend) { h in
            try await h.run { client in
                func start() async throws -> (id: String, token: String) {
                    let reply = try await client.call(.post, "/v1/sessions/start", #"{"agent_id": "a1"}"#)
                    return (reply.string("session", "id")!, reply.string("beacon_token")!)
                }
                let plain = try await start()
                let json = try await start()
                let forged = try await start()
                let expired = try await start()
                #expect(try await client.call(.post, "/v1/sessions/\(plain.id)/beacon", plain.token).status == 200)
                #expect(try await client.call(.post, "/v1/sessions/\(json.id)/beacon", #"{"beacon_token": "\#(json.token)"}"#).status == 200)
                // Another session's token, a tampered one, and none.
                #expect(try await client.call(.post, "/v1/sessions/\(forged.id)/beacon", plain.token).status == 401)
                #expect(try await client.call(.post, "/v1/sessions/\(forged.id)/beacon", forged.token + "x").status == 401)
                #expect(try await client.call(.post, "/v1/sessions/\(forged.id)/beacon", "").status == 401)
                h.clock.advance(seconds: 86_401)
                #expect(try await client.call(.post, "/v1/sessions/\(expired.id)/beacon", expired.token).status == 401)
                for (session, ended) in [(plain.id, true), (json.id, true), (forged.id, false), (expired.id, false)] {
                    let stored = try await h.store.session(id: session)
                    #expect((stored?.endedReason == .webhook) == ended, "\(session)")
                }
            }
        }
    }
}
