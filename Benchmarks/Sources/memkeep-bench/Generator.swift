import Foundation
import GRDB
import MemoryStore

/// SplitMix64: small, fast and the same on every machine, so `--seed` fixes the store.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The synthetic store: agents with a skewed share of the memories (one heavy agent with
/// exactly `heavyMemories`, a few more heavy ones, a long tail), sessions of 3–6 memories, and
/// shares of expired, archived and orphaned data for the jobs to work on.
struct Generator {
    var memories: Int
    var seed: UInt64
    var now: UnixMillis
    var heavyMemories = 10_000
    var expiredShare = 0.10
    var archivedShare = 0.20
    var openPastDeadlineShare = 0.02

    static let heavyAgent = "bench-heavy-0"
    static let words = """
        customer runs fastapi postgresql mysql redis aws ecs lambda kubernetes terraform billing invoice \
        plan upgrade downgrade webinar auth oauth token rate limiting dashboard dark mode email slack \
        constraint free tier budget deadline migration moved switched replaced python swift rust react \
        mobile ios android latency outage incident support ticket refund contract renewal onboarding \
        team size europe berlin tokyo timezone preference language german english spanish meeting
        """.split(separator: " ").map(String.init)

    struct Summary: Codable {
        var memories: Int
        var sessions: Int
        var agents: Int
        var expired: Int
        var archived: Int
        var orphaned: Int
        var heavyAgentMemories: Int
        var bytes: Int64
    }

    /// Writes the store at `path` (created and migrated by `MemoryStore`, then filled in bulk).
    func generate(path: String) throws -> Summary {
        _ = try MemoryStore(path: path)
        let queue = try DatabaseQueue(path: path)
        var random = SeededRandom(state: seed)
        let agents = max(10, memories / 40)
        var summary = Summary(
            memories: 0, sessions: 0, agents: agents, expired: 0, archived: 0, orphaned: 0, heavyAgentMemories: 0, bytes: 0)
        let day: UnixMillis = 86_400_000
        try queue.write { db in
            let session = try db.makeStatement(
                sql: """
                    INSERT INTO sessions (id, agent_id, started_at, last_activity_at, idle_timeout_s, idle_deadline_at,
                        ended_at, ended_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let memory = try db.makeStatement(
                sql: """
                    INSERT INTO memories (id, agent_id, session_id, content, memory_type, importance, base_importance,
                        decay_ref_at, tags, metadata, created_at, updated_at, expires_at, archived_at, archived_reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?)
                    """)
            var sessionIndex = 0
            while summary.memories < memories {
                let heavyLeft = heavyMemories - summary.heavyAgentMemories
                let agent: String
                if heavyLeft > 0, Double.random(in: 0..<1, using: &random) < 0.05 {
                    agent = Self.heavyAgent
                } else {
                    // u³ puts most sessions on low indices: a few heavy agents, a long tail.
                    let u = Double.random(in: 0..<1, using: &random)
                    agent = "bench-agent-\(1 + Int(Double(agents - 1) * u * u * u))"
                }
                let count = min(Int.random(in: 3...6, using: &random), memories - summary.memories,
                                agent == Self.heavyAgent ? heavyLeft : .max)
                let started = now - Int64.random(in: 1...(180 * day), using: &random)
                let sessionID = String(format: "s%09d", sessionIndex)
                sessionIndex += 1
                let orphaned = Double.random(in: 0..<1, using: &random) < openPastDeadlineShare
                let lastActivity = started + 60_000
                try session.execute(arguments: [
                    sessionID, agent, started, lastActivity, 1800,
                    orphaned ? lastActivity + 1_800_000 : nil,
                    orphaned ? nil : lastActivity + 60_000, orphaned ? nil : "client",
                ])
                summary.orphaned += orphaned ? 1 : 0
                summary.sessions += 1
                for index in 0..<count {
                    let created = started + Int64(index) * 1000
                    let roll = Double.random(in: 0..<1, using: &random)
                    let expired = roll < expiredShare
                    let archived = !expired && roll < expiredShare + archivedShare
                    let content = (0..<Int.random(in: 8...14, using: &random))
                        .map { _ in Self.words[Int.random(in: 0..<Self.words.count, using: &random)] }
                        .joined(separator: " ")
                    let importance = (Double.random(in: 0.1...1, using: &random) * 100).rounded() / 100
                    // Archived a day after it was written, and never in the future of `now`.
                    let archivedAt = min(created + day, now - 1000)
                    let tags = "[\"\(Self.words[Int.random(in: 0..<12, using: &random)])\"]"
                    try memory.execute(arguments: [
                        String(format: "m%010d", summary.memories), agent, sessionID, content, "episodic", importance,
                        importance, archived ? archivedAt : created, tags, created, created,
                        expired ? now - Int64.random(in: 1...(30 * day), using: &random) : nil,
                        archived ? archivedAt : nil, archived ? "consolidated" : nil,
                    ])
                    summary.memories += 1
                    summary.expired += expired ? 1 : 0
                    summary.archived += archived ? 1 : 0
                    if agent == Self.heavyAgent { summary.heavyAgentMemories += 1 }
                }
            }
        }
        try queue.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        summary.bytes = Int64((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        return summary
    }

    /// A store of `count` sessions only, `due` of them past their idle deadline: the orphan
    /// sweep's target case.
    func generateSessions(path: String, count: Int, due: Int) throws {
        _ = try MemoryStore(path: path)
        let queue = try DatabaseQueue(path: path)
        var random = SeededRandom(state: seed &+ 1)
        try queue.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO sessions (id, agent_id, started_at, last_activity_at, idle_timeout_s, idle_deadline_at)
                    VALUES (?, ?, ?, ?, 1800, ?)
                    """)
            for index in 0..<count {
                let isDue = index % (count / due) == 0
                let last = isDue ? now - 3_600_000 : now - Int64.random(in: 0...1_700_000, using: &random)
                try statement.execute(arguments: [
                    String(format: "o%09d", index), "bench-agent-\(index % 5000)", last - 60_000, last, last + 1_800_000,
                ])
            }
        }
        try queue.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
