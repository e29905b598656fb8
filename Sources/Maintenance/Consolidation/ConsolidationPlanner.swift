import MemoryStore

/// Decides which ended sessions of one agent to consolidate, and in which groups.
public struct ConsolidationPlanner: Sendable {
    public var maxSessions: Int
    public var batchSessions: Int
    public var minAge: UnixMillis
    public var maxLiveCharacters: Int?

    public init(maxSessions: Int, batchSessions: Int, minAge: UnixMillis, maxLiveCharacters: Int? = nil) {
        self.maxSessions = maxSessions
        self.batchSessions = batchSessions
        self.minAge = minAge
        self.maxLiveCharacters = maxLiveCharacters
    }

    public init(_ configuration: MaintenanceConfiguration.Consolidation) {
        self.init(
            maxSessions: configuration.maxSessions, batchSessions: configuration.batchSessions,
            minAge: configuration.minAge, maxLiveCharacters: configuration.maxLiveCharacters)
    }

    /// The size trigger consolidates down to this share of `maxLiveCharacters`, so an agent
    /// just over it is not consolidated again at its next store.
    public static let sizeTarget = 0.8

    /// `sessions` are the agent's ended, unconsolidated sessions, oldest first. Count trigger:
    /// while more than `maxSessions` remain, the oldest `batchSessions` go. Age trigger: every
    /// session ended at least `minAge` ago goes. Size trigger: while the agent's live text in
    /// unconsolidated sessions (`liveCharacters`, open sessions included) is over
    /// `maxLiveCharacters`, the oldest sessions go until what is left is under 80 % of it.
    /// Manual: all of them. Groups hold at most `batchSessions`, oldest first.
    public func plan(_ sessions: [SessionRef], now: UnixMillis, manual: Bool = false, liveCharacters: Int = 0)
        -> [[SessionRef]]
    {
        var countTaken = 0
        while sessions.count - countTaken > maxSessions { countTaken += batchSessions }
        var chosen = sessions.enumerated().map { index, session in
            manual || index < countTaken || now - session.endedAt >= minAge
        }
        if let maxLiveCharacters, liveCharacters > maxLiveCharacters {
            let target = Int(Double(maxLiveCharacters) * Self.sizeTarget)
            var left = liveCharacters - zip(sessions, chosen).filter(\.1).map(\.0.liveCharacters).reduce(0, +)
            for index in sessions.indices where left > target && !chosen[index] {
                chosen[index] = true
                left -= sessions[index].liveCharacters
            }
        }
        let taken = zip(sessions, chosen).filter(\.1).map(\.0)
        return stride(from: 0, to: taken.count, by: batchSessions).map {
            Array(taken[$0..<min($0 + batchSessions, taken.count)])
        }
    }
}
