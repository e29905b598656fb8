import Foundation
import MemoryStore
import TestSupport
import Testing

@Suite struct SessionTests {
    @Test(arguments: TestBackend.allCases)
    func startedSessionGetsDeadlineFromDefaultTimeout(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 600) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "support-customer-9182"))
            #expect(session.idleDeadlineAt == TestStore.t0 + 600_000)
            let outcome = try await t.store.nextIdleDeadline()
            #expect(outcome == TestStore.t0 + 600_000)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func zeroTimeoutMeansNoDeadline(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 0))
            #expect(session.idleDeadlineAt == nil)
            let outcome = try await t.store.nextIdleDeadline()
            #expect(outcome == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func touchMovesDeadlineButNeverReopens(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "a1"))
            t.clock.advance(seconds: 30)
            let touched = try await t.store.touchSession(id: session.id)
            #expect(touched.idleDeadlineAt == TestStore.t0 + 90_000)
            _ = try await t.store.endSession(id: session.id)
            let again = try await t.store.endSession(id: session.id, reason: .webhook)
            #expect(again.endedReason == .client, "end is idempotent: the first reason stays")
            let afterEnd = try await t.store.touchSession(id: session.id)
            #expect(afterEnd.endedAt != nil)
            #expect(afterEnd.idleDeadlineAt == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func touchOfAnotherTenantsSessionIsNotFoundAndMovesNothing(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            let open = try await t.store.startSession(SessionStart(agentID: "team_a-1"))
            let ended = try await t.store.startSession(SessionStart(agentID: "team_a-2"))
            _ = try await t.store.endSession(id: ended.id)
            t.clock.advance(seconds: 30)
            for pattern in ["team_b-*", "teamXa-*", "team_a-1x"] {
                for id in [open.id, ended.id] {
                    await #expect(throws: StoreError.sessionNotFound(id), "\(pattern) must not see \(id)") {
                        try await t.store.touchSession(id: id, visibleTo: AgentPattern(pattern))
                    }
                }
            }
            let unmoved = try await t.store.session(id: open.id)
            #expect(unmoved?.idleDeadlineAt == TestStore.t0 + 60_000)
            #expect(unmoved?.lastActivityAt == TestStore.t0)
            let touched = try await t.store.touchSession(id: open.id, visibleTo: AgentPattern("team_a-*"))
            #expect(touched.idleDeadlineAt == TestStore.t0 + 90_000)
            let endedSeen = try await t.store.touchSession(id: ended.id, visibleTo: AgentPattern("team_a-2"))
            #expect(endedSeen.endedAt == TestStore.t0)
            #expect(endedSeen.lastActivityAt == TestStore.t0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func storingIntoSessionIsActivity(backend: TestBackend) async throws {
        try await TestStore.with(backend, defaultIdleTimeoutSeconds: 60) { t in
            let session = try await t.store.startSession(SessionStart(agentID: "a1"))
            t.clock.advance(seconds: 50)
            _ = try await t.store.storeMemory(NewMemory(agentID: "a1", sessionID: session.id, content: "fact"))
            let outcome = try await t.store.session(id: session.id)?.idleDeadlineAt
            #expect(outcome == TestStore.t0 + 110_000)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func unknownSessionIsAnError(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            await #expect(throws: StoreError.sessionNotFound("nope")) { try await t.store.touchSession(id: "nope") }
            await #expect(throws: StoreError.sessionNotFound("nope")) {
                try await t.store.storeMemory(NewMemory(agentID: "a1", sessionID: "nope", content: "x"))
            }
        }
    }
}

@Suite struct MemoryValidationTests {
    static func badMemory(_ field: String) -> NewMemory {
        switch field {
        case "importance": NewMemory(agentID: "a1", content: "x", importance: 1.5)
        case "agent_id": NewMemory(agentID: "-bad", content: "x")
        case "memory_type": NewMemory(agentID: "a1", content: "x", memoryType: "dream")
        case "content": NewMemory(agentID: "a1", content: String(repeating: "x", count: 100_001))
        case "tags": NewMemory(agentID: "a1", content: "x", tags: (0..<33).map { "t\($0)" })
        case "metadata": NewMemory(agentID: "a1", content: "x", metadata: .array([]))
        default: NewMemory(agentID: "a1", content: "x", ttlSeconds: 0)
        }
    }

    @Test(arguments: TestBackend.allCases, ["importance", "agent_id", "memory_type", "content", "tags", "metadata", "ttl_seconds"])
    func badInputNamesTheFieldAndStoresNothing(backend: TestBackend, field: String) async throws {
        try await TestStore.with(backend) { t in
            do {
                _ = try await t.store.storeMemory(Self.badMemory(field))
                Issue.record("accepted bad \(field)")
            } catch let StoreError.invalidArgument(badField, _) {
                #expect(badField == field)
            }
            let export = try await t.exportText()
            #expect(export.isEmpty)
        }
    }
}

@Suite struct VisibilityTests {
    @Test(arguments: TestBackend.allCases)
    func expiredMemoryIsInvisibleBeforeAnyPurge(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let memory = try await t.store.storeMemory(NewMemory(agentID: "a1", content: "webinar this week", ttlSeconds: 60))
            #expect(memory.expiresAt == TestStore.t0 + 60_000)
            #expect(try await t.store.memory(id: memory.id) != nil)
            t.clock.advance(seconds: 60)
            #expect(try await t.store.memory(id: memory.id) == nil)
            #expect(try await t.store.memories(agentID: "a1").isEmpty)
            await #expect(throws: StoreError.memoryNotFound(memory.id)) {
                try await t.store.updateMemory(id: memory.id, MemoryUpdate(content: "x"))
            }
            let outcome = try await t.store.counts(now: t.clock.now()).expiredMemories
            #expect(outcome == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func explicitExpiryWinsOverTTL(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let memory = try await t.store.storeMemory(
                NewMemory(agentID: "a1", content: "x", ttlSeconds: 60, expiresAt: TestStore.t0 + 5000))
            #expect(memory.expiresAt == TestStore.t0 + 5000)
        }
    }
}

@Suite struct LeaseTests {
    @Test(arguments: TestBackend.allCases)
    func secondHolderIsRefusedUntilExpiry(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let now = TestStore.t0
            let alive: @Sendable (String) -> Bool = { _ in false }
            let first = try await t.store.acquireLease(job: "purge", holder: "h1", now: now, ttl: 1000, isHolderDead: alive)
            #expect(first == .acquired)
            let refused = try await t.store.acquireLease(job: "purge", holder: "h2", now: now + 10, ttl: 1000, isHolderDead: alive)
            #expect(refused == .heldBy(holder: "h1", expiresAt: now + 1000))
            let afterExpiry = try await t.store.acquireLease(
                job: "purge", holder: "h2", now: now + 1000, ttl: 1000, isHolderDead: alive)
            #expect(afterExpiry == .acquired)
            #expect(try await t.store.renewLease(job: "purge", holder: "h1", now: now + 1001, ttl: 1000) == false)
            let outcome = try await t.store.renewLease(job: "purge", holder: "h2", now: now + 1001, ttl: 1000)
            #expect(outcome)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deadHolderLosesLeaseAtOnce(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            _ = try await t.store.acquireLease(job: "decay", holder: "h1", now: TestStore.t0, ttl: 60_000, isHolderDead: { _ in false })
            let taken = try await t.store.acquireLease(
                job: "decay", holder: "h2", now: TestStore.t0, ttl: 60_000, isHolderDead: { $0 == "h1" })
            #expect(taken == .acquired)
            let outcome = try await t.store.leaseHolder(job: "decay", now: TestStore.t0)
            #expect(outcome == "h2")
        }
    }
}

@Suite struct InterchangeTests {
    /// An import file is outside input too: a number a Double cannot hold is refused by line.
    @Test(arguments: TestBackend.allCases)
    func anImportedMetadataNumberBeyond2To53IsRefusedWithItsLine(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let lines: [Substring] = [
                #"{"type":"memory","id":"m1","agent_id":"a1","content":"x","created_at":1700000000}"#,
                #"{"type":"memory","id":"m2","agent_id":"a1","content":"y","created_at":1700000000,"metadata":{"n":9007199254740993}}"#,
            ]
            await #expect(throws: Interchange.ImportError.self) { try await t.store.importLines(lines) }
            do {
                _ = try await t.store.importLines(lines)
            } catch {
                #expect("\(error)".contains("line 2") && "\(error)".contains("metadata.n holds a number beyond"), "\(error)")
            }
            let outcome = try await t.exportText()
            #expect(outcome.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func exportImportReproducesTheStoreByteForByte(backend: TestBackend) async throws {
        try await TestStore.with(backend) { a in
            let s = try await a.store.startSession(SessionStart(agentID: "a1", idleTimeoutSeconds: 120, metadata: .object(["k": "v"])))
            _ = try await a.store.storeMemory(
                NewMemory(agentID: "a1", sessionID: s.id, content: "runs FastAPI", importance: 0.8, tags: ["stack"], ttlSeconds: 3600))
            _ = try await a.store.storeMemory(NewMemory(agentID: "a2", content: "ünïcode \"quoted\"", memoryType: "procedural"))
            // What PostgreSQL's COPY text format gives a meaning: tab, newline, return, backslash, \N.
            _ = try await a.store.storeMemory(
                NewMemory(agentID: "a2", content: "tab\there\nline\r\nback\\slash \\N \\.", tags: ["t\tg", "\\N"],
                          metadata: .object(["note": "\\N\t\n"])))
            _ = try await a.store.endSession(id: s.id)
            let exported = try await a.exportText()
            try await TestStore.with(backend) { b in
                let summary = try await b.store.importLines(exported.split(separator: "\n", omittingEmptySubsequences: false))
                #expect(summary == Interchange.ImportSummary(sessions: 1, memories: 3))
                let outcome = try await b.exportText()
                #expect(outcome == exported)
            }
        }
    }

    /// A line that clashes with the store is named, and the whole file is refused: the first
    /// such line in file order, as the file would be written line by line.
    @Test(arguments: TestBackend.allCases, [
        (#"{"type":"session","id":"s-old","agent_id":"a1","started_at":1780000000}"#, "session s-old already exists in the store"),
        (#"{"type":"memory","id":"m-old","agent_id":"a1","content":"again"}"#, "memory m-old already exists in the store"),
        (#"{"type":"memory","id":"m9","agent_id":"a2","session_id":"s-old","content":"x"}"#, "session_id s-old belongs to another agent"),
        (#"{"type":"memory","id":"m9","agent_id":"a1","session_id":"s-new","content":"x"}"#, "session_id s-new belongs to another agent"),
    ])
    func aLineClashingWithTheStoreIsNamedAndNothingIsImported(backend: TestBackend, clash: (line: String, reason: String))
        async throws
    {
        try await TestStore.with(backend) { t in
            _ = try await t.store.importLines([
                #"{"type":"session","id":"s-old","agent_id":"a1","started_at":1780000000}"#,
                #"{"type":"memory","id":"m-old","agent_id":"a1","session_id":"s-old","content":"kept"}"#,
            ])
            let before = try await t.exportText()
            let lines: [Substring] = [
                #"{"type":"session","id":"s-new","agent_id":"a3","started_at":1780000000}"#,
                #"{"type":"memory","id":"m1","agent_id":"a1","session_id":"s-old","content":"fine"}"#,
                Substring(clash.line),
                #"{"type":"memory","id":"m4","agent_id":"a1","session_id":"ghost","content":"a later clash"}"#,
            ]
            await #expect(throws: Interchange.ImportError(line: 3, reason: clash.reason)) {
                try await t.store.importLines(lines)
            }
            let after = try await t.exportText()
            #expect(after == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func oneBadLineRejectsTheWholeFileWithItsLineNumber(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let lines: [Substring] = [
                #"{"type":"session","id":"s1","agent_id":"a1","started_at":"2026-06-01T00:00:00Z"}"#,
                #"{"type":"memory","id":"m1","agent_id":"a1","session_id":"s1","content":"ok","created_at":1780000000}"#,
                #"{"type":"memory","id":"m2","agent_id":"a1","content":"bad","importance":2}"#,
            ]
            await #expect(throws: Interchange.ImportError(line: 3, reason: "importance must be between 0 and 1")) {
                try await t.store.importLines(lines)
            }
            let outcome = try await t.exportText()
            #expect(outcome.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func unknownSessionIsCaughtInTheTransaction(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let lines: [Substring] = [
                #"{"type":"memory","id":"m1","agent_id":"a1","content":"ok"}"#,
                #"{"type":"memory","id":"m2","agent_id":"a1","session_id":"ghost","content":"x"}"#,
            ]
            await #expect(throws: Interchange.ImportError(line: 2, reason: "session_id ghost is unknown")) {
                try await t.store.importLines(lines)
            }
            let outcome = try await t.exportText()
            #expect(outcome.isEmpty)
        }
    }

    @Test(arguments: [
        (#"not json"#, "not a JSON object"),
        (#"{"type":"memory","id":"m1","agent_id":"a1"}"#, "content is required"),
        (#"{"type":"session","id":"s1","agent_id":"a1","started_at":"yesterday"}"#,
         "started_at must be Unix seconds or an RFC 3339 time"),
        (#"{"type":"session","id":"s1","agent_id":"a1","started_at":-5}"#, "started_at must be Unix seconds"),
        (#"{"type":"memory","id":"m1","agent_id":"a1","content":"x","ttl_seconds":1.5}"#, "ttl_seconds must be an integer"),
        (#"{"type":"memory","id":"m1","agent_id":"a1","content":"x","consolidation":{"id":"c1"}}"#,
         "consolidation.fate is required"),
        (#"{"type":"note","id":"n1"}"#, "type must be \"session\" or \"memory\""),
        (#"{"type":"memory","id":"m1","agent_id":"a1","content":"x","memory_type":"dream"}"#,
         "memory_type must be one of episodic, semantic, procedural, working"),
    ])
    func badLinesAreNamed(line: String, reason: String) async throws {
        let t = try TestStore()
        await #expect(throws: Interchange.ImportError(line: 1, reason: reason)) {
            try await t.store.importLines([Substring(line)])
        }
    }
}

@Suite struct TimeFormatTests {
    @Test func rfc3339RoundTrips() {
        #expect(TimeFormat.parseRFC3339("2026-06-01T00:00:00Z") == 1_780_272_000_000)
        #expect(TimeFormat.parseRFC3339("2026-06-01T02:00:00.250+02:00") == 1_780_272_000_250)
        #expect(TimeFormat.rfc3339(1_780_272_000_250) == "2026-06-01T00:00:00.250Z")
        #expect(TimeFormat.parseRFC3339("2026-02-30T00:00:00Z") == nil)
        #expect(TimeFormat.parseRFC3339("2026-06-01 00:00:00") == nil)
    }
}

@Suite struct ConsolidationInterchangeTests {
    @Test(arguments: TestBackend.allCases)
    func fatesSurviveExportAndImport(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let lines = [
                #"{"type":"session","id":"s1","agent_id":"a","started_at":1700000000,"ended_at":1700000100,"consolidated_into":"c1"}"#,
                #"{"type":"memory","id":"sum","agent_id":"a","content":"- kept fact","created_at":1700000200}"#,
                #"{"type":"memory","id":"k","agent_id":"a","session_id":"s1","content":"kept fact","archived_at":1700000200,"consolidation":{"id":"c1","summary_id":"sum","fate":"kept"}}"#,
                #"{"type":"memory","id":"n","agent_id":"a","session_id":"s1","content":"noise","archived_at":1700000200,"consolidation":{"id":"c1","fate":"below_floor"}}"#,
            ]
            _ = try await t.store.importLines(lines.map { Substring($0) })
            let explanation = try await t.store.explain(id: "c1")
            #expect(explanation.summaryIDs == ["sum"])
            #expect(explanation.entries.map(\.source.fate) == [.kept, .belowFloor])
            let exported = try await t.exportText()
            #expect(exported.contains(#""consolidation":{"fate":"below_floor","fate_ref":null,"id":"c1","summary_id":null}"#))
            #expect(exported.contains(#""sources":["k"]"#))

            let copy = try TestStore()
            _ = try await copy.store.importLines(exported.split(separator: "\n"))
            #expect(try await copy.exportText() == exported)
            let outcome = try await copy.store.restore(id: "sum").memoryIDs.sorted()
            #expect(outcome == ["k", "n"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSummaryWithSourcesButNoFatesIsOneKeptConsolidation(backend: TestBackend) async throws {
        try await TestStore.with(backend) { t in
            let lines = [
                #"{"type":"memory","id":"sum","agent_id":"a","content":"- x","created_at":1700000200,"sources":["x"]}"#,
                #"{"type":"memory","id":"x","agent_id":"a","content":"x","archived_at":1700000200}"#,
            ]
            _ = try await t.store.importLines(lines.map { Substring($0) })
            let explanation = try await t.store.explain(id: "sum")
            #expect(explanation.consolidationID == "sum")
            #expect(explanation.entries.map(\.source.fate) == [.kept])
        }
    }

    @Test(arguments: [
        (#""consolidation":{"id":"c1","fate":"lost"}"#, "line 1: consolidation.fate must be one of kept, merged, duplicate_of, superseded_by, below_floor, over_cap"),
        (#""consolidation":{"fate":"kept"}"#, "line 1: consolidation.id is required"),
        (#""consolidation":"c1""#, "line 1: consolidation must be a JSON object"),
    ])
    func badFatesAreNamed(field: String, message: String) async throws {
        let t = try TestStore()
        let line = #"{"type":"memory","id":"x","agent_id":"a","content":"x",\#(field)}"#
        await #expect(throws: Interchange.ImportError(line: 1, reason: String(message.dropFirst("line 1: ".count)))) {
            _ = try await t.store.importLines([Substring(line)])
        }
        #expect(try await t.exportText().isEmpty)
    }
}

@Suite struct TagStorageTests {
    @Test(arguments: [
        ["plain"], ["a\",\"b"], ["quote\"inside", "back\\slash"], ["tab\tnew\nline\u{1}"], ["ünïcødé", "日本語", "🦀"],
        ["comma,separated", "[bracket]"], [],
    ])
    func tagsComeBackExactly(tags: [String]) async throws {
        let t = try TestStore()
        let stored = try await t.store.storeMemory(NewMemory(agentID: "a", content: "x", tags: tags))
        #expect(try await t.store.memory(id: stored.id)?.tags == tags)
    }
}
