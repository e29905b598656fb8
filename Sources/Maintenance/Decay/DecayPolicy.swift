import Foundation
import MemoryStore

/// How importance falls with time since the decay reference. Every policy is a pure function of
/// (base importance, elapsed time), so the result is exact whatever the run interval.
public enum DecayPolicy: Sendable, Equatable {
    case exponential(halfLife: UnixMillis, floor: Double)
    case linear(perDay: Double, floor: Double)
    /// `steps` sorted by `after`; the factor of the last step reached applies to the base.
    case step(steps: [Step], floor: Double)

    public struct Step: Sendable, Equatable {
        public var after: UnixMillis
        public var factor: Double
        public init(after: UnixMillis, factor: Double) {
            self.after = after
            self.factor = factor
        }
    }

    public var floor: Double {
        switch self {
        case .exponential(_, let floor), .linear(_, let floor), .step(_, let floor): floor
        }
    }

    /// The importance after `elapsed` milliseconds. Never above the base, never below the floor
    /// (unless the base itself is lower: decay never raises importance).
    public func importance(base: Double, elapsed: UnixMillis) -> Double {
        let t = Double(max(0, elapsed))
        let decayed: Double =
            switch self {
            case .exponential(let halfLife, _): base * pow(0.5, t / Double(halfLife))
            case .linear(let perDay, _): base - perDay * t / Double(UnixMillis.day)
            case .step(let steps, _):
                base * (steps.last(where: { Double($0.after) <= t })?.factor ?? 1)
            }
        return min(base, max(floor, decayed))
    }
}

/// The decision for one memory, from its policy and `now`: plain value code, no I/O.
public struct DecayPlanner: Sendable {
    public var policy: DecayPolicy
    /// Live memories falling below this are archived; nil for archived memories.
    public var archiveBelow: Double?

    public init(policy: DecayPolicy, archiveBelow: Double?) {
        self.policy = policy
        self.archiveBelow = archiveBelow
    }

    public func decide(_ memory: DecayCandidate, now: UnixMillis) -> DecayDecision {
        guard !memory.isPinned else { return .keep }
        let value = policy.importance(base: memory.baseImportance, elapsed: now - memory.decayRefAt)
        if let archiveBelow, value < archiveBelow { return .archive(value) }
        return abs(value - memory.importance) < 1e-12 ? .keep : .set(value)
    }
}
