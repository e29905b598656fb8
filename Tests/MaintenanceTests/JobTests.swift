import Foundation
import Logging
import Maintenance
import MemoryStore
import TestSupport
import Testing

extension TestStore {
    func runner(_ configure: (inout MaintenanceConfiguration) -> Void = { _ in }) -> JobRunner {
        var configuration = MaintenanceConfiguration()
        configuration.jobs.batchPause = .zero
        configuration.jobs.contendedPause = .zero
        // Batches end at their row limits, not at a real-time bound that a busy machine would
        // reach at a different row each run; the bound has its own tests on a ticking clock.
        configuration.jobs.maxBatchTime = .seconds(3600)
        configure(&configuration)
        return JobRunner(
            store: store, configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            embedder: try? TestModel.builtin())
    }

    func run(_ job: JobName, _ runner: JobRunner? = nil, dryRun: Bool = false, agent: String? = nil) async -> JobReport {
        await (runner ?? self.runner()).run(job, trigger: .once, now: clock.now(), dryRun: dryRun, agent: agent)
    }

    /// Starts and ends `count` sessions of `agent`, each with `facts` memories.
    func endedSessions(_ count: Int, agent: String = "a1", facts: Int = 2) async throws -> [Session] {
        var sessions: [Session] = []
        for index in 0..<count {
            let session = try await store.startSession(SessionStart(agentID: agent))
            for fact in 0..<facts {
                _ = try await store.storeMemory(
                    NewMemory(agentID: agent, sessionID: session.id, content: "session \(index) fact \(fact) topic\(index * 10 + fact)"))
            }
            sessions.append(try await store.endSession(id: session.id))
            clock.advance(seconds: 1)
        }
        return sessions
    }
}

@Suite struct OrphanSweepTests {
    @Test(arguments: TestBackend.allCases)
    func sessionPastDefaultTimeoutIsClosedAsIdleSinceItsLastActivity(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 1800) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "a1"))
            t.clock.advance(seconds: 600)
            _ = try await t.store.touchSession(id: session.id)
            let lastActivity = t.clock.now()
            t.clock.advance(seconds: 1799)
            #expect(await t.run(.orphans).changed == 0)
            t.clock.advance(seconds: 1)
            let report = await t.run(.orphans)
            #expect(report.closedSessions == [session.id])
            let closed = try #require(try await t.store.session(id: session.id))
            #expect(closed.endedReason == .idle)
            #expect(closed.idleSince == lastActivity)
            #expect(closed.endedAt == t.clock.now())
        }
    }

    @Test(arguments: TestBackend.allCases)
    func ownTimeoutWinsAndZeroMeansNever(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 1800) { t in
            let short = try await t.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 60))
            let never = try await t.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 0))
            let normal = try await t.store.startSession(SessionStart(agentID: "a1"))
            t.clock.advance(seconds: 61)
            #expect(await t.run(.orphans).closedSessions == [short.id])
            t.clock.advance(seconds: 365 * 86400)
            #expect(await t.run(.orphans).closedSessions == [normal.id])
            let outcome = try await t.store.session(id: never.id)?.isOpen
            #expect(outcome == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func touchedSessionStaysOpen(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "a1"))
            for _ in 0..<10 {
                t.clock.advance(seconds: 50)
                _ = try await t.store.touchSession(id: session.id)
                #expect(await t.run(.orphans).changed == 0)
            }
            let outcome = try await t.store.session(id: session.id)?.isOpen
            #expect(outcome == true)
        }
    }
}

@Suite struct ConsolidationJobTests {
    @Test(arguments: TestBackend.allCases)
    func fiftyOneEndedSessionsConsolidateTheOldestThirty(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let sessions = try await t.endedSessions(51)
            let report = await t.run(.consolidate)
            #expect(report.status == .ok, "\(report.error ?? "")")
            #expect(report.sessionsConsolidated == 30)
            let summaryID = try #require(report.summaries?.first)
            let consolidationID = try #require(report.consolidations?.first)
            #expect(report.summaries?.count == 1, "untagged facts without vectors are one topic")
            #expect(report.fates == ["merged": 60], "the facts differ only in their numbers")

            let summary = try #require(try await t.store.memory(id: summaryID))
            #expect(summary.memoryType == .semantic)
            #expect(summary.tags == ["historical-summary"])
            #expect(summary.importance == 0.5, "auto: the highest kept importance")
            let metadata = try #require(summary.metadata.objectValue)
            #expect(metadata["consolidation_id"] == .string(consolidationID))
            #expect(metadata["source_sessions"] == .array(sessions.prefix(30).map(\.id).sorted().map(JSONValue.string)))
            #expect(metadata["source_count"] == .number(60))
            #expect(metadata["summarizer"] == .string("extractive"))
            let sourceTimes = try await t.store.memories(sessionID: sessions[0].id, includeArchived: true).map(\.createdAt)
            #expect(metadata["period_start"] == .string(TimeFormat.rfc3339(sourceTimes.min()!)))

            for (index, session) in sessions.enumerated() {
                let stored = try #require(try await t.store.session(id: session.id))
                #expect((stored.consolidatedInto == consolidationID) == (index < 30))
            }
            let sources = try await t.store.memories(agentID: "a1", includeArchived: true, limit: 1000).filter { $0.archivedAt != nil }
            #expect(sources.count == 60, "sources are archived, not deleted")
            #expect(sources.allSatisfy { $0.archivedReason == .consolidated })
            #expect(try await t.store.memories(agentID: "a1").count == 21 * 2 + 1, "live: 21 sessions' facts + the summary")

            let exportWithProvenance = try await t.exportText()
            #expect(exportWithProvenance.contains(#""sources":["#))
            #expect(exportWithProvenance.contains(#""fate":"merged""#))
            #expect(await t.run(.consolidate).changed == 0, "a second run changes nothing")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func restoreUndoesAConsolidation(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = try await t.endedSessions(51)
            let before = try await t.exportText()
            let summaryID = try #require(await t.run(.consolidate).summaries?.first)
            t.clock.advance(seconds: 86400)
            _ = await t.run(.decay)
            let restored = try await t.store.restore(id: summaryID)
            #expect(restored.sessionIDs.count == 30)
            // Decay of the restored memories starts over at the restore; everything else is as before.
            #expect(try Self.withoutDecayReference(await t.exportText()) == Self.withoutDecayReference(before))
            await #expect(throws: StoreError.consolidationNotFound(summaryID)) { try await t.store.restore(id: summaryID) }
        }
    }

    static func withoutDecayReference(_ export: String) throws -> [JSONValue] {
        try export.split(separator: "\n").map { line in
            var object = try #require(try JSONValue.parse(String(line)).objectValue)
            object["decay_ref_at"] = nil
            return .object(object)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func restoreRefusesPlainMemories(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let plain = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "x"))
            await #expect(throws: StoreError.notRestorable(id: plain.id, reason: "it is not a consolidation summary")) {
                try await t.store.restore(id: plain.id)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func ageTriggerConsolidatesOldSessions(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = try await t.endedSessions(3)
            #expect(await t.run(.consolidate).changed == 0)
            t.clock.advance(seconds: 30 * 86400)
            let report = await t.run(.consolidate)
            #expect(report.sessionsConsolidated == 3)
            #expect(report.summaries?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func manualConsolidationOfOneAgent(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = try await t.endedSessions(2, agent: "a1")
            _ = try await t.endedSessions(2, agent: "a2")
            let report = await t.run(.consolidate, agent: "a2")
            #expect(report.sessionsConsolidated == 2)
            let outcome = try await t.store.counts(now: t.clock.now()).unconsolidatedSessions
            #expect(outcome == 2)
        }
    }
}

@Suite struct DecayJobTests {
    @Test(arguments: TestBackend.allCases)
    func oneRunOrTenRunsGiveTheSameImportance(backend: TestBackend) async throws {
        try await TestStore.with(backend) { once in
            let often = try TestStore()
            for t in [once, often] {
                _ = try await t.endedSessions(51, facts: 1)
                _ = await t.run(.consolidate)
            }
            once.clock.advance(seconds: 45 * 86400)
            _ = await once.run(.decay)
            for _ in 0..<10 {
                often.clock.advance(seconds: 4.5 * 86400)
                _ = await often.run(.decay)
            }
            let a = try await once.store.memories(includeArchived: true, limit: 1000).filter { $0.archivedAt != nil }
            let b = try await often.store.memories(includeArchived: true, limit: 1000).filter { $0.archivedAt != nil }
            #expect(a.count == 30)
            #expect(a.map(\.importance) == b.map(\.importance))
            #expect(abs(a[0].importance - 0.5 * pow(0.5, 1.5)) < 1e-12)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pinnedNeverDecaysAndLiveDecayArchivesBelowThreshold(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let pinned = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "p", memoryType: "working", tags: ["pinned"]))
            let working = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "w", memoryType: "working"))
            let episodic = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "e"))
            let runner = t.runner { $0.decay.policies[.working] = .linear(perDay: 0.1, floor: 0) }
            t.clock.advance(seconds: 2 * 86400)
            let first = await t.run(.decay, runner)
            #expect(first.decayed == 1)
            #expect(abs((try await t.store.memory(id: working.id)?.importance ?? 0) - 0.3) < 1e-12)
            t.clock.advance(seconds: 3 * 86400)
            let second = await t.run(.decay, runner)
            #expect(second.archived == 1)
            #expect(try await t.store.memory(id: working.id)?.archivedReason == .decayed)
            #expect(try await t.store.memory(id: pinned.id)?.importance == 0.5)
            let outcome = try await t.store.memory(id: episodic.id)?.importance
            #expect(outcome == 0.5, "no policy for episodic")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func accessResetsDecay(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let memory = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "w", memoryType: "working"))
            let runner = t.runner { $0.decay.policies[.working] = .linear(perDay: 0.1, floor: 0) }
            t.clock.advance(seconds: 86400)
            _ = await t.run(.decay, runner)
            try await t.store.recordAccess(ids: [memory.id])
            let accessed = try #require(try await t.store.memory(id: memory.id))
            #expect(accessed.importance == 0.5)
            #expect(accessed.accessCount == 1)
            #expect(await t.run(.decay, runner).changed == 0)
        }
    }
}

@Suite struct PurgeJobTests {
    @Test(arguments: TestBackend.allCases)
    func purgeDeletesInBatchesAndExportsFirst(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            for index in 0..<7 {
                _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60))
            }
            let keep = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "durable"))
            t.clock.advance(seconds: 61)
            let exportDirectory = t.directory.appendingPathComponent("purged").path
            let runner = t.runner {
                $0.purge.batchSize = 3
                $0.purge.exportDirectory = exportDirectory
            }
            let report = await t.run(.purge, runner)
            #expect(report.deletedMemories == 7)
            #expect(try await t.store.counts(now: t.clock.now()).expiredMemories == 0)
            #expect(try await t.store.memory(id: keep.id) != nil)
            let files = try FileManager.default.contentsOfDirectory(atPath: exportDirectory)
            let text = try String(contentsOfFile: exportDirectory + "/" + files[0], encoding: .utf8)
            #expect(text.split(separator: "\n").count == 7)
            #expect(text.contains("transient 6"))
        }
    }

    /// A killed or failed write leaves a partial last line; the next append cuts it off first,
    /// so every line of the export parses and no deleted memory is missing from it.
    @Test(arguments: TestBackend.allCases, [#"{"type":"memory","id":"half-writ"#, "{", "x"])
    func aPartialLastLineIsCutOffBeforeTheNextAppend(backend: TestBackend, partial: String) async throws {
        try await TestStore.with(backend) { t in
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try await t.store.storeMemory(NewMemory(agentID: "a1", content: "transient \(index)", ttlSeconds: 60)).id)
            }
            t.clock.advance(seconds: 61)
            let directory = t.directory.appendingPathComponent("purged").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let file = directory + "/purge-" + TimeFormat.rfc3339(t.clock.now()).prefix(10) + ".jsonl"
            let earlier = #"{"type":"memory","id":"earlier","agent_id":"a1","content":"purged before"}"#
            try (earlier + "\n" + partial).write(toFile: file, atomically: true, encoding: .utf8)
            let report = await t.run(.purge, t.runner {
                $0.purge.batchSize = 2
                $0.purge.exportDirectory = directory
            })
            #expect(report.deletedMemories == 5)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.first == earlier)
            let exported = try lines.map { try #require(JSONValue.parse($0)["id"]?.text) }
            #expect(exported == ["earlier"] + ids)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func archivedMemoriesArePurgedOnlyAfterRetention(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = try await t.endedSessions(51, facts: 1)
            _ = await t.run(.consolidate)
            t.clock.advance(seconds: 89 * 86400)
            #expect(await t.run(.purge).deletedArchived == 0)
            t.clock.advance(seconds: 86400)
            #expect(await t.run(.purge).deletedArchived == 30)
        }
    }
}

@Suite struct RunSemanticsTests {
    @Test(arguments: TestBackend.allCases)
    func dryRunReportsTheSameFiguresAndChangesNothing(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            _ = try await t.endedSessions(55)
            for _ in 0..<3 { _ = try await t.store.startSession(SessionStart(agentID: "a2")) }
            _ = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "short", ttlSeconds: 1))
            t.clock.advance(seconds: 40 * 86400)
            let runner = t.runner {
                $0.orphans.batchSize = 2
                $0.decay.batchSize = 7
                $0.purge.batchSize = 2
            }
            for job in JobName.allCases {
                t.clock.advance(seconds: 86400)
                let before = try await t.exportText()
                let dry = await t.run(job, runner, dryRun: true)
                #expect(try await t.exportText() == before, "a dry \(job) run changes nothing")
                let real = await t.run(job, runner)
                #expect(real.changed > 0)
                #expect(dry.examined == real.examined)
                #expect(dry.changed == real.changed)
                #expect(dry.archived == real.archived)
                #expect(dry.closedSessions == real.closedSessions)
                #expect(dry.sessionsConsolidated == real.sessionsConsolidated)
                let after = try await t.exportText()
                #expect(await t.run(job, runner).changed == 0, "\(job) again at the same time changes nothing")
                #expect(try await t.exportText() == after)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func budgetStopsARunAndTheNextContinues(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            for _ in 0..<5 { _ = try await t.store.startSession(SessionStart(agentID: "a1")) }
            t.clock.advance(seconds: 61)
            let runner = t.runner {
                $0.orphans.batchSize = 2
                $0.jobs.budget[.orphans] = .zero
            }
            let first = await t.run(.orphans, runner)
            #expect(first.changed == 2)
            #expect(first.complete == false)
            #expect(await t.run(.orphans, runner).changed == 2)
            #expect(await t.run(.orphans, runner).changed == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func everyRunIsRecorded(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = await t.run(.purge, dryRun: true)
            let runs = try await t.store.jobRuns(job: "purge")
            #expect(runs.count == 1)
            #expect(runs[0].status == "ok")
            #expect(runs[0].dryRun)
        }
    }
}

@Suite struct ChangeFactsTests {
    /// One fact of agent a1 at 0.8 in a session that has ended.
    static func factInEndedSession(_ t: TestStore, _ content: String) async throws -> Memory {
        let session = try await t.store.startSession(SessionStart(agentID: "a1"))
        let fact = try await t.store.storeMemory(
            NewMemory(agentID: "a1", sessionID: session.id, content: content, importance: 0.8))
        _ = try await t.store.endSession(id: session.id)
        return fact
    }

    /// A summary restates older facts at the time of its consolidation: if it counted as a later
    /// change, it would supersede facts newer than what it restates.
    @Test(arguments: TestBackend.allCases)
    func changeStatementsIncludeConsolidatedSourcesButNeverSummaries(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let change = try await Self.factInEndedSession(t, "Moved hosting from Heroku to Fly.io.")
            let report = await t.run(.consolidate, agent: "a1")
            let summary = try #require(report.summaries?.first)
            #expect(try await t.store.memory(id: summary)?.content.contains("Heroku") == true)
            let facts = try await t.store.changeFacts(
                agentIDs: ["a1"], words: Supersession.triggerWords, since: 0, now: t.clock.now())
            #expect(facts.map(\.id) == [change.id])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anotherAgentsChangeNeverSupersedes(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let fact = try await Self.factInEndedSession(t, "Hosting is on Heroku.")
            t.clock.advance(seconds: 60)
            _ = try await t.store.storeMemory(NewMemory(agentID: "a2", content: "Moved hosting from Heroku to Fly.io."))
            let report = await t.run(.consolidate, agent: "a1")
            #expect(report.fates == ["kept": 1])
            let outcome = try await t.store.explain(id: fact.id).entries.first?.source.fate
            #expect(outcome == .kept)
        }
    }
}

@Suite struct SizeTriggerJobTests {
    @Test(arguments: TestBackend.allCases)
    func anAgentOverMaxLiveCharsIsConsolidatedOldestFirstToUnderEightyPercent(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            // Ten sessions of 2 facts of about 24 characters: about 480 live characters.
            _ = try await t.endedSessions(10)
            let runner = t.runner { $0.consolidation.maxLiveCharacters = 1000 }
            #expect(await t.run(.consolidate, runner).sessionsConsolidated == 0, "under the limit")
            let tight = t.runner {
                $0.consolidation.maxLiveCharacters = 400
                $0.consolidation.batchSessions = 2
            }
            let report = await t.run(.consolidate, tight)
            let consolidated = try #require(report.sessionsConsolidated)
            #expect(consolidated > 0 && consolidated < 10)
            let (left, live) = try await t.store.unconsolidatedSessions(agentIDs: ["a1"], liveCharacters: true)["a1"]!
            #expect(left.count == 10 - consolidated)
            #expect(live <= 320, "under 80 % of the limit")
            // A session holds about 48 characters: one session fewer would have left it over 320.
            #expect(live > 320 - 50, "and no more sessions than needed went")
        }
    }
}
