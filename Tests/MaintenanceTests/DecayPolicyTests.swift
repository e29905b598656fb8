import Maintenance
import MemoryStore
import Testing

@Suite struct DecayPolicyTests {
    @Test func exponentialHalvesPerHalfLife() {
        let policy = DecayPolicy.exponential(halfLife: 30 * .day, floor: 0)
        #expect(policy.importance(base: 0.8, elapsed: 30 * .day) == 0.4)
        #expect(abs(policy.importance(base: 0.8, elapsed: 45 * .day) - 0.8 * 0.35355339059327373) < 1e-12)
    }

    @Test func linearLosesPerDayDownToTheFloor() {
        let policy = DecayPolicy.linear(perDay: 0.01, floor: 0.1)
        #expect(abs(policy.importance(base: 0.5, elapsed: 10 * .day) - 0.4) < 1e-12)
        #expect(policy.importance(base: 0.5, elapsed: 100 * .day) == 0.1)
    }

    @Test func stepAppliesTheLastStepReached() {
        let policy = DecayPolicy.step(
            steps: [.init(after: 7 * .day, factor: 0.5), .init(after: 30 * .day, factor: 0.25)], floor: 0)
        #expect(policy.importance(base: 0.8, elapsed: 6 * .day) == 0.8)
        #expect(policy.importance(base: 0.8, elapsed: 7 * .day) == 0.4)
        #expect(policy.importance(base: 0.8, elapsed: 31 * .day) == 0.2)
    }

    @Test func decayNeverRaisesImportanceAboveTheBase() {
        #expect(DecayPolicy.linear(perDay: 0.01, floor: 0.3).importance(base: 0.2, elapsed: .day) == 0.2)
        #expect(DecayPolicy.exponential(halfLife: .day, floor: 0).importance(base: 0.5, elapsed: -.day) == 0.5)
    }

    @Test func plannerKeepsPinnedAndArchivesBelowThreshold() {
        let planner = DecayPlanner(policy: .linear(perDay: 0.1, floor: 0), archiveBelow: 0.05)
        let pinned = DecayCandidate(id: "m", importance: 0.5, baseImportance: 0.5, decayRefAt: 0, isPinned: true)
        #expect(planner.decide(pinned, now: 100 * .day) == .keep)
        let fading = DecayCandidate(id: "m", importance: 0.5, baseImportance: 0.5, decayRefAt: 0, isPinned: false)
        #expect(planner.decide(fading, now: 2 * .day) == .set(0.3))
        #expect(planner.decide(fading, now: 5 * .day - 1) != .keep)
        #expect(planner.decide(fading, now: 10 * .day) == .archive(0))
    }
}

@Suite struct ConsolidationPlannerTests {
    static func sessions(_ count: Int, endedAt: (Int) -> UnixMillis) -> [SessionRef] {
        (0..<count).map { SessionRef(id: "s\($0)", startedAt: UnixMillis($0) * 1000, endedAt: endedAt($0)) }
    }

    @Test func fiftyOneSessionsConsolidateTheOldestThirty() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 30, minAge: 30 * .day)
        let plan = planner.plan(Self.sessions(51) { _ in .day }, now: 2 * .day)
        #expect(plan.count == 1)
        #expect(plan[0].map(\.id) == (0..<30).map { "s\($0)" })
    }

    @Test func fiftySessionsTriggerNothing() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 30, minAge: 30 * .day)
        #expect(planner.plan(Self.sessions(50) { _ in .day }, now: 2 * .day).isEmpty)
    }

    @Test func ageTriggerTakesOnlyOldEnoughSessions() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 30, minAge: 30 * .day)
        let sessions = Self.sessions(5) { $0 < 2 ? 0 : 40 * .day }
        #expect(planner.plan(sessions, now: 31 * .day).map { $0.map(\.id) } == [["s0", "s1"]])
    }

    @Test func manualTakesEverythingInGroups() {
        let planner = ConsolidationPlanner(maxSessions: 50, batchSessions: 2, minAge: 30 * .day)
        #expect(planner.plan(Self.sessions(5) { _ in .day }, now: .day, manual: true).map(\.count) == [2, 2, 1])
    }
}
