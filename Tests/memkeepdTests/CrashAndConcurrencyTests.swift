import Foundation
import MemoryStore
import Synchronization
import Testing
import TestSupport

/// kill -9 in the middle of a job, and two processes on one job: the store stays consistent,
/// the next run finishes the work, and no job runs twice at once.
@Suite(.serialized) struct CrashAndConcurrencyTests {
    /// Half a second between batches: once the test sees the first batch committed, the run
    /// is far from its end, however busy the machine. Reruns go at full speed.
    static let slow = ["MEMKEEP_JOBS_BATCH_PAUSE": "500ms"]

    @Test(arguments: TestBackend.allCases)
    func killedConsolidationLeavesAConsistentStoreAndIsFinishedExactlyOnce(backend: TestBackend) async throws {
        try await Memkeepd.with(backend, Self.slow.merging(["MEMKEEP_CONSOLIDATION_BATCH_SESSIONS": "2"]) { $1 }) { m in
            #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 100, sessions: 4, facts: 3))).status == 0)
            let (process, _, _) = try m.start(["run", "consolidate", "--now", "2026-06-01T00:00:00Z"])
            var rerunner = m
            rerunner.environment["MEMKEEP_JOBS_BATCH_PAUSE"] = "0"
            try await m.withStore { [rerunner] store in
                #expect(try await m.waitUntil { try await store.sessions(limit: 1000).contains { $0.consolidatedAt != nil } })
                kill(process.processIdentifier, SIGKILL)
                #expect(await process.finish().status == -SIGKILL)

                #expect(try await store.integrityCheck().isEmpty)
                let partial = try await Self.consolidationState(m)
                #expect(partial.consolidated > 0 && partial.consolidated < 400, "killed mid-run: \(partial.consolidated) of 400")
                #expect(partial.violations.isEmpty, "\(partial.violations)")

                let rerun = try await rerunner.run("run", "consolidate", "--now", "2026-06-01T00:00:00Z")
                #expect(rerun.status == 0, "\(rerun.stderr)")
                let final = try await Self.consolidationState(m)
                #expect(final.consolidated == 400)
                #expect(final.summaries == 200, "each pair of sessions summarized exactly once")
                #expect(final.violations.isEmpty, "\(final.violations)")
                let runs = try await store.jobRuns(job: "consolidate")
                #expect(runs.contains { $0.status == "interrupted" })
            }
        }
    }

    /// The same kill with the LLM summarizer on, one call at a time. The model holds the 45th
    /// call; the test kills the run once the first 30 batches are written. No batch is half
    /// written; every answered call is counted, in the day's spend and the run's; and the rerun
    /// pays for no prompt already paid for: each prompt is asked once, but the one never answered.
    @Test func killedLLMConsolidationWritesNoHalfBatchAndPaysForNoPromptTwice() async throws {
        let stallAt = 45
        let calls = Atomic<Int>(0)
        let server = FakeChatServer(responder: { prompt in
            calls.add(1, ordering: .relaxed).newValue == stallAt ? .stall : .content(ScriptedSummaries.answer(to: prompt).content)
        })
        let firstDay = SystemClock().now().utcDay
        try await server.run { url in
            let m = try Memkeepd([
                "MEMKEEP_CONSOLIDATION_BATCH_SESSIONS": "2", "MEMKEEP_CONSOLIDATION_SUMMARIZER": "llm", "MEMKEEP_LLM_URL": url,
                "MEMKEEP_LLM_MODEL": "scripted", "MEMKEEP_LLM_MAX_CONCURRENCY": "1",
            ])
            #expect(try await m.run("import", try m.write("seed.jsonl", seedLines(agents: 100, sessions: 4, facts: 3))).status == 0)
            let (process, _, _) = try m.start(["run", "consolidate", "--now", "2026-06-01T00:00:00Z"])
            await server.requestsReceived(atLeast: stallAt)
            let store = try m.store()
            #expect(try await m.waitUntil { try await store.sessions(limit: 1000).contains { $0.consolidatedAt != nil } })
            kill(process.processIdentifier, SIGKILL)
            #expect(await process.finish().status == -SIGKILL)
            func paid() async throws -> LLMUsage {
                var total = LLMUsage()
                for day in firstDay...SystemClock().now().utcDay { total = total + (try await store.llmUsage(day: day)) }
                return total
            }

            #expect(try await store.integrityCheck().isEmpty)
            let partial = try await Self.consolidationState(m)
            #expect(partial.consolidated > 0 && partial.consolidated < 400, "killed mid-run: \(partial.consolidated) of 400")
            #expect(partial.violations.isEmpty, "\(partial.violations)")
            #expect(try await paid() == LLMUsage(calls: stallAt - 1, promptTokens: 100 * (stallAt - 1), completionTokens: 20 * (stallAt - 1)))
            #expect(try await store.jobRuns(job: "consolidate").first?.llmUsage?.calls == stallAt - 1)

            let rerun = try await m.run("run", "consolidate", "--now", "2026-06-01T00:00:00Z")
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let final = try await Self.consolidationState(m)
            #expect(final.consolidated == 400 && final.summaries == 200)
            #expect(final.violations.isEmpty, "\(final.violations)")
            let asked = Dictionary(grouping: server.prompts, by: { $0 }).mapValues(\.count)
            #expect(asked.count == 200, "one prompt per batch")
            #expect(asked.values.filter { $0 > 1 } == [2], "only the prompt never answered was asked again")
            #expect(try await paid().tokens == server.billedTokens && server.billedCalls == 200)
        }
    }

    /// Group commit answers a write only after its transaction committed. Eight clients store
    /// memories and heartbeat their sessions as fast as the daemon answers; the test kills it
    /// with SIGKILL the moment the 300th write is answered. Every write answered 201 or 200 is in
    /// the store, and every heartbeat's new activity time too.
    @Test func everyWriteAnsweredBeforeASIGKILLIsInTheStore() async throws {
        let m = try Memkeepd(DaemonTests.quiet.merging(["MEMKEEP_EMBEDDINGS_PROVIDER": "none"]) { $1 })
        let daemon = try await m.serve()
        final class Answered: Sendable {
            let state = Mutex<(stored: [String], touched: [String: Int64], count: Int)>(([], [:], 0))
        }
        let answered = Answered()
        let (port, pid) = (daemon.port, daemon.process.processIdentifier)
        let killAt = 300
        await withTaskGroup(of: Void.self) { clients in
            for client in 0..<8 {
                clients.addTask {
                    guard let started = try? await httpRequest(port, "POST", "/v1/sessions/start", #"{"agent_id": "client-\#(client)"}"#),
                        let session = (started.json?["session"] as? [String: Any])?["id"] as? String
                    else { return }
                    for write in 0... {
                        let path = write % 2 == 0 ? "/v1/memory/store" : "/v1/sessions/\(session)/touch"
                        let body = write % 2 == 0
                            ? #"{"agent_id": "client-\#(client)", "session_id": "\#(session)", "content": "write \#(write) of \#(client)"}"#
                            : "{}"
                        guard let result = try? await httpRequest(port, "POST", path, body), (200...201).contains(result.status)
                        else { return }
                        let count = answered.state.withLock { answered in
                            if write % 2 == 0, let id = (result.json?["memory"] as? [String: Any])?["id"] as? String {
                                answered.stored.append(id)
                            }
                            if write % 2 == 1,
                                let seconds = ((result.json?["session"] as? [String: Any])?["last_activity_at"] as? NSNumber)?.int64Value
                            {
                                answered.touched[session] = seconds
                            }
                            answered.count += 1
                            return answered.count
                        }
                        if count == killAt { kill(pid, SIGKILL) }
                    }
                }
            }
        }
        // Clients stop at the kill; should they stop before it, the kill still comes, and the
        // count below says why.
        kill(pid, SIGKILL)
        #expect(await daemon.process.finish().status == -SIGKILL)
        let store = try m.store()
        let (stored, touched, count) = answered.state.withLock { $0 }
        #expect(count >= killAt)
        for id in stored { #expect(try await store.memory(id: id) != nil, "answered 200 but lost: \(id)") }
        for (session, at) in touched {
            #expect((try await store.session(id: session)?.lastActivityAt ?? 0) / 1000 >= at, "heartbeat answered but lost")
        }
        #expect(try await store.integrityCheck().isEmpty)
    }

    /// Checks every consolidated session against its consolidation, from the export: each of its
    /// memories is archived with a fate of that consolidation, every summary a fate names
    /// exists, and nothing of an unconsolidated session was touched. `summaries` counts the
    /// consolidations that wrote summaries.
    static func consolidationState(_ m: Memkeepd) async throws -> (consolidated: Int, summaries: Int, violations: [String]) {
        var sessions: [String: String?] = [:]
        var memories: [String: [String: JSONValue]] = [:]
        for line in try await m.run("export").stdout.split(separator: "\n") {
            let object = try JSONValue.parse(String(line)).objectValue ?? [:]
            guard case .string(let id)? = object["id"] else { continue }
            if object["type"] == .string("session") {
                if case .string(let into)? = object["consolidated_into"] { sessions[id] = into } else { sessions[id] = .some(nil) }
            } else {
                memories[id] = object
            }
        }
        var violations: [String] = []
        var summarized = Set<String>()
        for (id, memory) in memories {
            guard case .string(let session)? = memory["session_id"], let into = sessions[session] else { continue }
            let archived = memory["archived_at"] != .null
            let consolidation = memory["consolidation"]?.objectValue
            if let into {
                if !archived { violations.append("\(id) of consolidated \(session) is live") }
                if consolidation?["id"] != .string(into) { violations.append("\(id) has no fate in consolidation \(into)") }
                if case .string(let summary)? = consolidation?["summary_id"] {
                    if memories[summary] == nil { violations.append("summary \(summary) of \(id) is missing") }
                    summarized.insert(into)
                }
            } else if archived || consolidation != nil {
                violations.append("\(id) of unconsolidated \(session) was archived")
            }
        }
        return (sessions.values.filter { $0 != nil }.count, summarized.count, violations)
    }

    @Test(arguments: TestBackend.allCases)
    func killedPurgeLeavesAConsistentStoreAndTheNextRunFinishes(backend: TestBackend) async throws {
        // Batches of exactly 100 rows (no time bound), so a whole batch shows in the count.
        let environment = Self.slow.merging(["MEMKEEP_PURGE_BATCH_SIZE": "100", "MEMKEEP_JOBS_MAX_BATCH_TIME": "1h"]) { $1 }
        try await Memkeepd.with(backend, environment) { m in
            let seed = try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1, expiredExtra: 20_000))
            #expect(try await m.run("import", seed).status == 0)
            let (process, _, _) = try m.start(["run", "purge"])
            #expect(try await m.waitForLease("purge"))

            let contender = try await m.run("run", "purge")
            #expect(contender.status == 75, "a second process gets 75 while the job's lease is held")
            let all = try await m.run("run", "all", "--json")
            #expect(all.status == 0)
            #expect(all.stdout.contains(#""job":"purge","status":"skipped""#) || all.stdout.contains(#""held_by""#))

            var rerunner = m
            rerunner.environment["MEMKEEP_JOBS_BATCH_PAUSE"] = "0"
            try await m.withStore { [rerunner] store in
                #expect(try await m.waitUntil { try await store.counts(now: SystemClock().now()).expiredMemories < 20_000 })
                kill(process.processIdentifier, SIGKILL)
                #expect(await process.finish().status == -SIGKILL)

                #expect(try await store.integrityCheck().isEmpty)
                let left = try await store.counts(now: SystemClock().now()).expiredMemories
                #expect(left > 0 && left < 20_000, "killed mid-run with \(left) left")
                #expect(left % 100 == 0, "whole batches only")

                let rerun = try await rerunner.run("run", "purge", "--json")
                #expect(rerun.status == 0, "the dead holder's lease is taken over at once")
                #expect(rerun.stdout.contains(#""deleted_memories":\#(left)"#))
                #expect(try await store.counts(now: SystemClock().now()).expiredMemories == 0)
                // The seeded fact, kept live by `run all`'s consolidation, and its summary.
                let kept = try await store.memories(agentID: "agent-0").count
                #expect(kept == 2)
            }
        }
    }
}
