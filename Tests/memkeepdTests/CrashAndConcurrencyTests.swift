import Foundation
import MemoryStore
import Testing

/// kill -9 in the middle of a job, and two processes on one job: the store stays consistent,
/// the next run finishes the work, and no job runs twice at once.
@Suite(.serialized) struct CrashAndConcurrencyTests {
    static let slow = ["MEMKEEP_JOBS_BATCH_PAUSE": "20ms"]

    @Test func killedConsolidationLeavesAConsistentStoreAndIsFinishedExactlyOnce() async throws {
        let m = try Memkeepd(Self.slow.merging(["MEMKEEP_CONSOLIDATION_BATCH_SESSIONS": "2"]) { $1 })
        #expect(try m.run("import", try m.write("seed.jsonl", seedLines(agents: 100, sessions: 4, facts: 3))).status == 0)
        let (process, _, _) = try m.start(["run", "consolidate", "--now", "2026-06-01T00:00:00Z"])
        #expect(try await m.waitForLease("consolidate"))
        try await Task.sleep(for: .milliseconds(400))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let store = try m.store()
        #expect(try await store.integrityCheck().isEmpty)
        let partial = try await Self.consolidationState(m)
        #expect(partial.consolidated > 0 && partial.consolidated < 400, "killed mid-run: \(partial.consolidated) of 400")
        #expect(partial.violations.isEmpty, "\(partial.violations)")

        let rerun = try m.run("run", "consolidate", "--now", "2026-06-01T00:00:00Z")
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let final = try await Self.consolidationState(m)
        #expect(final.consolidated == 400)
        #expect(final.summaries == 200, "each pair of sessions summarized exactly once")
        #expect(final.violations.isEmpty, "\(final.violations)")
        #expect(try await store.jobRuns(job: "consolidate").contains { $0.status == "interrupted" })
    }

    /// Checks every consolidated session against its summary, from the export.
    static func consolidationState(_ m: Memkeepd) async throws -> (consolidated: Int, summaries: Int, violations: [String]) {
        var sessions: [String: String?] = [:]
        var memories: [String: [String: JSONValue]] = [:]
        var sourceCount: [String: Int] = [:]
        for line in try m.run("export").stdout.split(separator: "\n") {
            let object = try JSONValue.parse(String(line)).objectValue ?? [:]
            guard case .string(let id)? = object["id"] else { continue }
            if object["type"] == .string("session") {
                if case .string(let into)? = object["consolidated_into"] { sessions[id] = into } else { sessions[id] = .some(nil) }
            } else {
                memories[id] = object
                if case .array(let sources)? = object["sources"] {
                    for case .string(let source) in sources { sourceCount[source, default: 0] += 1 }
                }
            }
        }
        var violations: [String] = []
        for (id, memory) in memories {
            guard case .string(let session)? = memory["session_id"], let into = sessions[session] else { continue }
            let archived = memory["archived_at"] != .null
            if let into {
                if !archived { violations.append("\(id) of consolidated \(session) is live") }
                if sourceCount[id] != 1 { violations.append("\(id) is a source \(sourceCount[id] ?? 0) times") }
                if memories[into] == nil { violations.append("summary \(into) of \(session) is missing") }
            } else if archived || sourceCount[id] != nil {
                violations.append("\(id) of unconsolidated \(session) was archived")
            }
        }
        let summaries = memories.values.filter { $0["sources"] != .null }.count
        return (sessions.values.filter { $0 != nil }.count, summaries, violations)
    }

    @Test func killedPurgeLeavesAConsistentStoreAndTheNextRunFinishes() async throws {
        let m = try Memkeepd(Self.slow.merging(["MEMKEEP_PURGE_BATCH_SIZE": "100"]) { $1 })
        #expect(try m.run("import", try m.write("seed.jsonl", seedLines(agents: 1, sessions: 1, facts: 1, expiredExtra: 20_000))).status == 0)
        let (process, _, _) = try m.start(["run", "purge"])
        #expect(try await m.waitForLease("purge"))

        let contender = try m.run("run", "purge")
        #expect(contender.status == 75, "a second process gets 75 while the job's lease is held")
        let all = try m.run("run", "all", "--json")
        #expect(all.status == 0)
        #expect(all.stdout.contains(#""job":"purge","status":"skipped""#) || all.stdout.contains(#""held_by""#))

        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let store = try m.store()
        #expect(try await store.integrityCheck().isEmpty)
        let left = try await store.counts(now: SystemClock().now()).expiredMemories
        #expect(left > 0 && left < 20_000, "killed mid-run with \(left) left")
        #expect(left % 100 == 0, "whole batches only")

        let rerun = try m.run("run", "purge", "--json")
        #expect(rerun.status == 0, "the dead holder's lease is taken over at once")
        #expect(rerun.stdout.contains(#""deleted_memories":\#(left)"#))
        #expect(try await store.counts(now: SystemClock().now()).expiredMemories == 0)
        #expect(try await store.memories(agentID: "agent-0").count == 1)
    }
}
