import Foundation
import Maintenance
import MemoryService
import MemoryStore

/// The scheduler as the front ends see it: jobs by name, reports in the API's shape.
extension Scheduler: MaintenanceControl {
    public var jobNames: [String] { JobName.allCases.map(\.rawValue) }

    public func runNow(job: String, dryRun: Bool, agent: String?) async -> MaintenanceRun {
        guard let name = JobName(rawValue: job) else {
            return MaintenanceRun(job: job, outcome: .failed("no job \(job)"), report: [:])
        }
        let report = await runNow(name, trigger: .admin, dryRun: dryRun, agent: agent)
        let outcome: MaintenanceRun.Outcome =
            switch report.status {
            case .ok: .ok
            case .skipped: .heldElsewhere(by: report.heldBy ?? "unknown")
            case .failed: .failed(report.error ?? "")
            }
        return MaintenanceRun(job: job, outcome: outcome, report: Self.fields(report))
    }

    /// The report's Codable form as JSON fields.
    static func fields(_ report: JobReport) -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(report), case .object(let fields)? = try? JSONValue.parse(bytes: data, exactNumbers: false)
        else { return [:] }
        return fields
    }
}
