import Foundation
import HTTPAPI
import HTTPTypes
import MemoryService
import MemoryStore
import Testing
import TestSupport

/// What an attacker with nothing but the port, or a tenant probing another, tried: none of it
/// crashes the server, opens a route, leaks a record or changes the store.
@Suite struct HostileRequestTests {
    /// Beacon tokens whose expiry is any 64-bit number: the multiplication to milliseconds used
    /// to trap (SIGILL) before the signature was even looked at.
    @Test(arguments: TestBackend.allCases, [
        "9223372036854775807.x", "-9223372036854775808.x", "9223372036854776.x", "92233720368547758.abc", "0.x", ".",
    ])
    func aBeaconTokenWithAnyExpiryIsRefusedAndTheServerLives(backend: TestBackend, token: String) async throws {
        try await APIHarness.with(backend) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/sessions/\(session.id)/beacon", token)
                #expect(reply.status == 401 && reply.code == "INVALID_TOKEN", "\(reply.text)")
                #expect(try await client.call(.get, "/health").status == 200)
            }
            let outcome = try await h.store.session(id: session.id)?.isOpen
            #expect(outcome == true)
        }
    }

    /// Timestamps that overflow when turned into milliseconds are bad input, checked before
    /// the signature, never a crash.
    @Test(arguments: TestBackend.allCases, ["9223372036854775807", "-9223372036854775808", "9223372036854776", "-9223372036854776"])
    func aWebhookTimestampThatOverflowsIsABadTimestamp(backend: TestBackend, timestamp: String) async throws {
        let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
        try await APIHarness.with(backend, { $0.webhookSecrets = [secret] }) { h in
            let session = try await h.store.startSession(SessionStart(agentID: "a1"))
            let body = #"{"session_id": "\#(session.id)"}"#
            let key = try #require(WebhookVerifier.key(fromSecret: secret))
            let headers = [
                "webhook-id": "msg_overflow", "webhook-timestamp": timestamp,
                "webhook-signature": WebhookVerifier.sign(id: "msg_overflow", timestamp: timestamp, body: Array(body.utf8), key: key),
            ]
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/webhooks/session-end", body, headers: headers)
                #expect(reply.status == 400 && reply.error == "webhook-timestamp must be Unix seconds", "\(reply.text)")
                #expect(try await client.call(.get, "/health").status == 200)
            }
            let outcome = try await h.store.session(id: session.id)?.isOpen
            #expect(outcome == true)
        }
    }

    static func withKeyed(_ backend: TestBackend, _ body: @Sendable (APIHarness) async throws -> Void) async throws {
        try await APIHarness.with(backend, {
            $0.keys = [
                AuthTests.key("tenant-a", .write, "tenant-a-*"), AuthTests.key("tenant-b", .write, "tenant-b-*"),
                AuthTests.key("admin", .admin, "*"),
            ]
        }, body)
    }

    /// A session whose id is `beacon` sits under a path that ends like the public beacon route;
    /// only the route that matched decides, so reading it still needs a key.
    @Test(arguments: TestBackend.allCases)
    func aSessionNamedLikeAPublicRouteStillNeedsAKey(backend: TestBackend) async throws {
        try await Self.withKeyed(backend) { h in
            _ = try await h.store.startSession(SessionStart(id: "beacon", agentID: "tenant-a-1"))
            _ = try await h.store.startSession(SessionStart(id: "health", agentID: "tenant-a-1"))
            try await h.run { client in
                for uri in ["/v1/sessions/beacon", "/v1/sessions/health", "/v1/sessions/beacon/memories"] {
                    let anonymous = try await client.call(.get, uri)
                    #expect(anonymous.status == 401 && anonymous.code == "AUTHENTICATION_REQUIRED", "\(uri): \(anonymous.text)")
                    #expect(try await client.call(.get, uri, headers: AuthTests.bearer("tenant-a")).status == 200, "\(uri)")
                }
                #expect(try await client.call(.post, "/v1/sessions/beacon/touch").status == 401)
            }
        }
    }

    /// A tenant that owns 4 of 29 sessions, newest or not, sees all 4 on its first page and
    /// every page is cut after the tenant filter.
    @Test(arguments: TestBackend.allCases)
    func sessionPagesAreCutAfterTheTenantFilter(backend: TestBackend) async throws {
        try await Self.withKeyed(backend) { h in
            var ours: [String] = []
            for index in 0..<29 {
                let agent = index % 7 == 3 ? "tenant-a-\(index)" : "tenant-b-\(index)"
                let session = try await h.store.startSession(SessionStart(agentID: agent))
                if agent.hasPrefix("tenant-a") { ours.append(session.id) }
                h.clock.advance(seconds: 1)
            }
            #expect(ours.count == 4)
            let newestFirst = Array(ours.reversed())
            try await h.run { client in
                let first = try await client.call(.get, "/v1/sessions?limit=3", headers: AuthTests.bearer("tenant-a"))
                let second = try await client.call(.get, "/v1/sessions?limit=3&offset=3", headers: AuthTests.bearer("tenant-a"))
                let third = try await client.call(.get, "/v1/sessions?limit=3&offset=6", headers: AuthTests.bearer("tenant-a"))
                let ids = { (reply: Reply) -> [String] in
                    guard case .array(let sessions)? = reply.json else { return [] }
                    return sessions.compactMap { $0["id"]?.text }
                }
                #expect(ids(first) == Array(newestFirst.prefix(3)), "\(first.text)")
                #expect(ids(second) == [newestFirst[3]], "\(second.text)")
                #expect(ids(third).isEmpty)
            }
        }
    }

    /// Ids are unique store-wide: a key limited to some agents may not choose them, so neither a
    /// fresh id nor one another tenant holds tells it anything, and it cannot take ids.
    @Test(arguments: TestBackend.allCases, [
        ("/v1/memory/store", #"{"agent_id": "tenant-a-1", "content": "x", "id": "ID"}"#),
        ("/v1/sessions/start", #"{"agent_id": "tenant-a-1", "id": "ID"}"#),
        ("/v1/memories/store/batch", #"{"agent_id": "tenant-a-1", "memories": [{"content": "x", "id": "ID"}]}"#),
    ])
    func aTenantKeyCannotProbeOrClaimIDs(backend: TestBackend, row: (String, String)) async throws {
        let (uri, template) = row
        try await Self.withKeyed(backend) { h in
            _ = try await h.store.storeMemory(NewMemory(id: "held-by-b", agentID: "tenant-b-1", content: "secret"))
            _ = try await h.store.startSession(SessionStart(id: "held-by-b", agentID: "tenant-b-1"))
            let before = try await h.test.exportText()
            try await h.run { client in
                let taken = try await client.call(
                    .post, uri, template.replacingOccurrences(of: "ID", with: "held-by-b"), headers: AuthTests.bearer("tenant-a"))
                let fresh = try await client.call(
                    .post, uri, template.replacingOccurrences(of: "ID", with: "never-used"), headers: AuthTests.bearer("tenant-a"))
                #expect(taken.status == 400 && fresh.status == 400, "\(taken.text) \(fresh.text)")
                #expect(taken.error.replacingOccurrences(of: "held-by-b", with: "") == fresh.error.replacingOccurrences(of: "never-used", with: ""))
                #expect(fresh.error.contains("id may not be chosen by a key limited to agents \"tenant-a-*\""), "\(fresh.text)")
                #expect(!taken.text.contains("exists"))
            }
            #expect(try await h.test.exportText() == before)
            try await h.run { client in
                // A key for every agent sees every record: it may choose ids.
                let admin = try await client.call(
                    .post, uri, template.replacingOccurrences(of: "ID", with: "chosen-by-admin"), headers: AuthTests.bearer("admin"))
                #expect(admin.status == 201, "\(admin.text)")
            }
        }
    }

    /// A chunked body has no Content-Length to refuse up front; past `http.max_body` it is 413
    /// like a sized one, not a 500.
    @Test(arguments: TestBackend.allCases)
    func aChunkedBodyOverTheLimitIs413(backend: TestBackend) async throws {
        try await APIHarness.with(backend, { $0.maxBody = 1024 }) { h in
            let before = try await h.test.exportText()
            try await h.run { client in
                let chunk = String(repeating: "a", count: 600)
                let body = #"{"agent_id": "a1", "content": ""# + chunk + chunk + #""}"#
                let hex = String(body.utf8.count, radix: 16)
                let answer = await RawSocket.exchange(
                    port: client.port,
                    "POST /v1/memory/store HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\(hex)\r\n\(body)\r\n0\r\n\r\n")
                let text = try #require(answer)
                #expect(text.hasPrefix("HTTP/1.1 413"), "\(text)")
                #expect(text.contains("PAYLOAD_TOO_LARGE") && text.contains("http.max_body"), "\(text)")
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases, ["bearer", "BEARER", "Bearer", "bEaReR"])
    func theBearerSchemeIsCaseInsensitive(backend: TestBackend, scheme: String) async throws {
        try await Self.withKeyed(backend) { h in
            try await h.run { client in
                let reply = try await client.call(.get, "/v1/sessions", headers: ["Authorization": "\(scheme) tenant-a"])
                #expect(reply.status == 200, "\(reply.text)")
            }
        }
    }

    /// A served path with another method is 405 with `Allow`, never 404 as if it did not exist.
    @Test(arguments: TestBackend.allCases, [
        (HTTPRequest.Method.trace, "/v1/sessions", "GET"),
        (.trace, "/health", "GET"),
        (HTTPRequest.Method("QUERY")!, "/health/live", "GET"),
        (.delete, "/v1/sessions/start", "POST"),
        (.put, "/v1/memory/recall", "GET, POST"),
        (.patch, "/v1/sessions/s1", "GET"),
    ])
    func anotherMethodOnAServedPathIs405(backend: TestBackend, row: (HTTPRequest.Method, String, String)) async throws {
        let (method, uri, allowed) = row
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                let response = try await client.client.executeRequest(uri: uri, method: method, headers: [:], body: nil)
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == allowed)
                #expect(String(buffer: response.body).contains("METHOD_NOT_ALLOWED"))
                let outcome = try await client.call(.trace, "/no/such/route").status
                #expect(outcome == 404)
            }
        }
    }

    /// JSON numbers reach metadata through Double: an integer a Double cannot hold is refused
    /// with its path instead of being stored as another number.
    @Test(arguments: TestBackend.allCases, [
        (#"{"order_id": 9007199254740993}"#, "metadata.order_id holds a number beyond ±(2^53−1)"),
        (#"{"ids": [1, 123456789012345678901]}"#, "metadata.ids[1] holds a number beyond ±(2^53−1)"),
        (#"{"deep": {"n": -9007199254740995}}"#, "metadata.deep.n holds a number beyond ±(2^53−1)"),
        (#"{"big": 1e300}"#, "metadata.big holds a number beyond ±(2^53−1)"),
    ])
    func metadataIntegersBeyond2To53AreRefusedNotChanged(backend: TestBackend, row: (String, String)) async throws {
        let (metadata, message) = row
        try await APIHarness.with(backend) { h in
            let before = try await h.test.exportText()
            try await h.run { client in
                let reply = try await client.call(
                    .post, "/v1/memory/store", #"{"agent_id": "a1", "content": "x", "metadata": \#(metadata)}"#)
                #expect(reply.status == 400 && reply.error.hasPrefix(message), "\(reply.text)")
            }
            let outcome = try await h.test.exportText()
            #expect(outcome == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func metadataIntegersADoubleHoldsExactlyComeBackUnchanged(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                let stored = try await client.call(
                    .post, "/v1/memory/store",
                    #"{"agent_id": "a1", "content": "x", "metadata": {"a": 9007199254740991, "b": -42, "c": 1.5}}"#)
                #expect(stored.status == 201, "\(stored.text)")
                let id = try #require(stored.string("memory", "id"))
                let got = try await client.call(.get, "/v1/memory/get/\(id)")
                #expect(got.text.contains(#""a":9007199254740991"#) && got.text.contains(#""b":-42"#), "\(got.text)")
                #expect(got.text.contains(#""c":1.5"#), "\(got.text)")
            }
        }
    }
}

@Suite struct PathParameterTests {
    /// Ids may hold `:`, which clients percent-encode in paths.
    @Test(arguments: TestBackend.allCases)
    func percentEncodedIdsInPathsAreDecoded(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            let session = try await h.store.startSession(SessionStart(id: "chat:42", agentID: "team:a1"))
            try await h.run { client in
                #expect(try await client.call(.get, "/v1/sessions/chat%3A42").string("session", "id") == session.id)
                #expect(try await client.call(.get, "/v1/agents/team%3Aa1/stats").status == 200)
                let bad = try await client.call(.get, "/v1/sessions/chat%ZZ")
                #expect(bad.status == 400 && bad.error.contains("not valid percent-encoding"), "\(bad.text)")
            }
        }
    }
}
