import CoreMetrics
import Foundation

/// The Prometheus figures of job runs: runs by job and status, rows examined and changed, and
/// the duration histogram. Uses the factory it is given (a no-op one for one-shot runs).
public struct JobMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    func record(_ report: JobReport, batchTimes: [Double] = []) {
        let job = ("job", report.job.rawValue)
        Counter(label: "memkeep_job_runs_total", dimensions: [job, ("status", report.status.rawValue)], factory: factory)
            .increment()
        guard report.status != .skipped else { return }
        Counter(label: "memkeep_job_rows_examined_total", dimensions: [job], factory: factory)
            .increment(by: report.examined)
        Counter(label: "memkeep_job_rows_changed_total", dimensions: [job], factory: factory)
            .increment(by: report.changed)
        Timer(label: "memkeep_job_duration_seconds", dimensions: [job], factory: factory)
            .recordNanoseconds(Int64(report.durationMs * 1_000_000))
        let batch = Timer(label: "memkeep_job_batch_duration_seconds", dimensions: [job], factory: factory)
        for milliseconds in batchTimes { batch.recordNanoseconds(Int64(milliseconds * 1_000_000)) }
    }
}
