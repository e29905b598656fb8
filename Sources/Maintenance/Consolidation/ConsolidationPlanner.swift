import MemoryStore

/// Decides which ended sessions of one agent to consolidate, and in which groups.
public struct ConsolidationPlanner: Sendable {
    public var maxSessions: Int
    public var batchSessions: Int
    public var minAge: UnixMillis

    public init(maxSessions: Int, batchSessions: Int, minAge: UnixMillis) {
        self.maxSessions = maxSessions
        self.batchSessions = batchSessions
        self.minAge = minAge
    }

    public init(_ configuration: MaintenanceConfiguration.Consolidation) {
        self.init(
            maxSessions: configuration.maxSessions, batchSessions: configuration.batchSessions,
            minAge: configuration.minAge)
    }

    /// `sessions` are the agent's ended, unconsolidated sessions, oldest first. Count trigger:
    /// while more than `maxSessions` remain, the oldest `batchSessions` go. Age trigger: every
    /// session ended at least `minAge` ago goes. Manual: all of them. Groups hold at most
    /// `batchSessions`, oldest first.
    public func plan(_ sessions: [SessionRef], now: UnixMillis, manual: Bool = false) -> [[SessionRef]] {
        var countTaken = 0
        while sessions.count - countTaken > maxSessions { countTaken += batchSessions }
        let chosen = sessions.enumerated().filter { index, session in
            manual || index < countTaken || now - session.endedAt >= minAge
        }.map(\.element)
        return stride(from: 0, to: chosen.count, by: batchSessions).map {
            Array(chosen[$0..<min($0 + batchSessions, chosen.count)])
        }
    }
}
