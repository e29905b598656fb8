import Foundation
import MemoryStore
import Synchronization
import Testing
import TestSupport

/// Two `memkeepd serve` processes on one PostgreSQL database, as two API nodes of one
/// deployment: heartbeats reach either node, jobs run on one node at a time, and a node killed
/// mid-purge leaves its work to the other.
@Suite(.serialized) struct TwoNodeTests {
    static let configuration = """
        sessions:
          idle_timeout: 3s
        orphans:
          max_sleep: 1h
        jobs:
          lease_ttl: 15s
          batch_pause: 200ms
          decay: {interval: 1s, jitter: 0s, budget: 60s, timeout: 10m}
          purge: {interval: 1s, jitter: 0s, budget: 60s, timeout: 10m}
          consolidate: {interval: 1s, jitter: 0s, budget: 60s, timeout: 10m}
        purge:
          batch_size: 100
        """

    /// `orphans.max_sleep` is an hour: a sweep that closes a session within a second of its
    /// deadline, when another process started the session, has heard of it through
    /// LISTEN/NOTIFY and its own timer, not by polling.
    @Test func twoNodesShareSessionsJobsAndAKilledNodesPurge() async throws {
        let environment = ["MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_LOG_LEVEL": "warning"]
        try await Memkeepd.with(.postgres, environment) { m in
            let seed = try m.write("seed.jsonl", seedLines(agents: 2, sessions: 1, facts: 1))
            #expect(try await m.run("import", seed).status == 0)
            let config = try m.write("memkeep.yaml", Self.configuration)
            let a = try await m.serve(["--config", config])
            let b: ServingDaemon
            do {
                b = try await m.sibling().serve(["--config", config])
            } catch {
                await Self.kill([a])
                throw error
            }
            let nodes = [a, b]
            // A failed `#require` must not leave the nodes running on a dropped database.
            do {

                // Sessions started by a third process (this one), which no node's sweep hears of
                // but by LISTEN/NOTIFY: both nodes looked the store up at start, when it held none,
                // and sleep up to `orphans.max_sleep`, an hour.
                var sessions = try await m.withStore { store in
                    var ids: [String] = []
                    for index in 0..<4 {
                        let session = try await store.startSession(SessionStart(agentID: "direct-\(index)", idleTimeoutSeconds: 2))
                        ids.append(session.id)
                    }
                    // Closed before any other session exists to wake a sweep.
                    #expect(try await m.waitUntil { try await store.sessions(openOnly: true).isEmpty })
                    return ids
                }
                let direct = Set(sessions)
                // Sessions started on either node, heartbeats to either node at random.
                var generator = SystemRandomNumberGenerator()
                for index in 0..<12 {
                    let node = nodes[index % 2]
                    let started = try await httpRequest(
                        node.port, "POST", "/v1/sessions/start", #"{"agent_id": "support-customer-\#(index)"}"#)
                    let id = try #require(try JSONValue.parse(started.body)["session"]?["id"]?.text)
                    sessions.append(id)
                }
                for _ in 0..<3 {
                    for id in sessions {
                        let node = nodes[Int.random(in: 0...1, using: &generator)]
                        let touched = try await httpRequest(node.port, "POST", "/v1/sessions/\(id)/touch", "{}")
                        #expect(touched.status == 200, "touch of session \(id): \(touched.body)")
                    }
                }

                try await m.withStore { [sessions] store in
                    // Every session closes, once, by the sweep of one node or the other.
                    let closed = try await m.waitUntil {
                        try await store.sessions(openOnly: true).isEmpty
                    }
                    #expect(closed)
                    for id in sessions {
                        let session = try #require(try await store.session(id: id))
                        #expect(session.endedReason == .idle)
                        let deadline = try #require(session.idleSince) + (direct.contains(id) ? 2000 : 3000)
                        let late = try #require(session.endedAt) - deadline
                        #expect(late >= 0 && late <= 1000, "session \(id) closed \(late) ms after its deadline")
                    }

                    // 5,000 expired rows written now (not at the start, when a purge could be over
                    // before the sessions above are), purged 100 a batch with 200 ms pauses: kill
                    // whichever node holds the purge mid-run. The holder as seen while it purges
                    // (read once: on a busy machine the run may end, or its lease lapse between
                    // renewals, before a second read).
                    let expired = try m.write("expired.jsonl", seedLines(agents: 0, sessions: 0, facts: 0, expiredExtra: 5_000))
                    #expect(try await m.run("import", expired).status == 0)
                    let seen = Mutex<String?>(nil)
                    let purging = try await m.waitUntil {
                        let holder = try await store.leaseHolder(job: "purge", now: SystemClock().now())
                        let left = try await store.counts(now: SystemClock().now()).expiredMemories
                        guard let holder, (1..<5_000).contains(left) else { return false }
                        seen.withLock { $0 = holder }
                        return true
                    }
                    #expect(purging)
                    let holder = try #require(seen.withLock { $0 })
                    let victim = try #require(nodes.first { holder.contains("/\($0.process.processIdentifier)/") })
                    victim.signal(SIGKILL)
                    _ = await victim.process.finish()
                    #expect(try await m.waitUntil { try await store.counts(now: SystemClock().now()).expiredMemories == 0 })
                    let survivor = nodes.first { $0.process.processIdentifier != victim.process.processIdentifier }!
                    let finished = try await m.waitUntil {
                        try await store.jobRuns(job: "purge", limit: 1000).contains {
                            $0.holder.contains("/\(survivor.process.processIdentifier)/") && $0.status == "ok" && $0.changed > 0
                        }
                    }
                    #expect(finished, "the surviving node finished the killed node's purge")

                    // No two runs of one job ever overlapped, across both nodes.
                    for job in ["orphans", "decay", "purge", "consolidate"] {
                        let runs = try await store.jobRuns(job: job, limit: 10_000).sorted { $0.startedAt < $1.startedAt }
                        for (earlier, later) in zip(runs, runs.dropFirst()) {
                            let end = earlier.finishedAt ?? .max
                            #expect(
                                later.startedAt >= end || earlier.status == "interrupted",
                                "\(job): run \(later.id) began before run \(earlier.id) ended")
                        }
                    }
                    let holders = Set(try await store.jobRuns(limit: 10_000).map(\.holder))
                    #expect(holders.count >= 2, "both nodes ran jobs: \(holders)")
                }
            } catch {
                await Self.kill(nodes)
                throw error
            }
            for node in nodes where node.process.isRunning {
                #expect(await node.stop().status == 0)
            }
        }
    }

    static func kill(_ nodes: [ServingDaemon]) async {
        for node in nodes where node.process.isRunning {
            node.signal(SIGKILL)
            _ = await node.process.finish()
        }
    }
}
