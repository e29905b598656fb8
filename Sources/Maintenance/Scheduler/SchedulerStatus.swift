import MemoryStore

/// The unit's STATUS line: the latest run and the next one due, e.g.
/// `orphans: 3 closed 2s ago · next decay in 4m`.
public enum SchedulerStatus {
    public static func line(plans: [JobPlan], orphans: OrphanPlan, now: UnixMillis, maxSleep: Duration) -> String {
        var runs = plans.compactMap { plan in plan.lastRun.map { (plan.job, $0) } }
        if let last = orphans.lastRun { runs.append((.orphans, last)) }
        var parts: [String] = []
        if let (job, run) = runs.max(by: { $0.1.finishedAt < $1.1.finishedAt }) {
            let what =
                switch run.status {
                case .failed: "failed"
                case .skipped: "skipped (lease held elsewhere)"
                case .ok: job == .orphans ? "\(run.changed) closed" : "\(run.changed) changed"
                }
            parts.append("\(job.rawValue): \(what) \(human(now - run.finishedAt)) ago")
        } else {
            parts.append("no run yet")
        }
        var upcoming = plans.map { ($0.job, $0.nextDue) }
        if case .sleep(let until) = orphans.next(now: now, maxSleep: maxSleep), orphans.deadline == until {
            upcoming.append((.orphans, until))
        }
        if let (job, due) = upcoming.min(by: { $0.1 < $1.1 }) {
            parts.append(due <= now ? "\(job.rawValue) running" : "next \(job.rawValue) in \(human(due - now))")
        }
        return parts.joined(separator: " · ")
    }

    /// `850ms`, `42s`, `4m`, `3h`, `2d`: coarse on purpose, it is read by a person.
    public static func human(_ millis: UnixMillis) -> String {
        switch max(millis, 0) {
        case ..<1000: "\(max(millis, 0))ms"
        case ..<60_000: "\(millis / 1000)s"
        case ..<3_600_000: "\(millis / 60_000)m"
        case ..<86_400_000: "\(millis / 3_600_000)h"
        default: "\(millis / 86_400_000)d"
        }
    }
}
