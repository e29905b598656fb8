import Foundation
import HTTPAPI
import Maintenance
import MemoryService
import MemoryStore
import TestSupport
import Testing

@Suite struct AdminRoutesTests {
    @Test(arguments: TestBackend.allCases)
    func aDryRunReportsWhatARunWouldChangeAndChangesNothing(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            for index in 0..<3 {
                _ = try await h.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
            }
            h.clock.advance(seconds: 61)
            let before = try await h.test.exportText()
            try await h.run { client in
                let dry = try await client.call(.post, "/v1/admin/jobs/purge/run?dry_run=true")
                #expect(dry.status == 200, "\(dry.text)")
                #expect(dry.object["deleted_memories"]?.number == 3)
                #expect(try await h.test.exportText() == before)
                let real = try await client.call(.post, "/v1/admin/jobs/purge/run", #"{"dry_run": false}"#)
                #expect(real.object["deleted_memories"]?.number == 3)
                let jobs = try await client.call(.get, "/v1/admin/jobs")
                #expect(jobs.text.contains(#""trigger":"admin""#), "\(jobs.text)")
            }
            let outcome = try await h.store.counts(now: h.clock.now()).expiredMemories
            #expect(outcome == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aJobAnotherProcessHoldsAnswers409(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            _ = try await h.store.acquireLease(
                job: "decay", holder: "elsewhere/1/x", now: SystemClock().now(), ttl: 60_000, isHolderDead: { _ in false })
            try await h.run { client in
                let reply = try await client.call(.post, "/v1/admin/jobs/decay/run")
                #expect(reply.status == 409 && reply.error.contains("elsewhere/1/x"), "\(reply.text)")
                let consolidate = try await client.call(.post, "/v1/agents/a1/consolidate")
                #expect(consolidate.status == 200, "\(consolidate.text)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func httpMetricsCountRequestsByRouteAndStatus(backend: TestBackend) async throws {
        try await APIHarness.with(backend) { h in
            try await h.run { client in
                _ = try await client.call(.get, "/v1/sessions")
                _ = try await client.call(.get, "/v1/sessions/nope")
                let metrics = try await client.call(.get, "/metrics").text
                #expect(metrics.contains(#"memkeep_http_requests_total{route="/v1/sessions",method="GET",status="200"} 1"#), "\(metrics)")
                #expect(metrics.contains(#"memkeep_http_requests_total{route="/v1/sessions/{id}",method="GET",status="404"} 1"#))
                #expect(metrics.contains(#"memkeep_http_request_duration_seconds_bucket{route="/v1/sessions""#))
            }
        }
    }
}
