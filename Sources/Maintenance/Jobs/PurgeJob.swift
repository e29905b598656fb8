import Foundation
import MemoryStore

/// Deletes expired memories, archived memories past retention, old webhook receipts, kept LLM
/// answers and old job runs, in small batches.
public enum PurgeJob {
    public static func run(_ context: JobContext) async throws -> JobReport {
        var report = JobReport(job: .purge)
        let config = context.configuration.purge
        let exporter = try config.exportDirectory.map { try PurgeExporter(directory: $0, now: context.now) }
        var deleted = [0, 0]
        let targets: [PurgeTarget] = [
            .expired(context.now), .archivedBefore(context.now - context.configuration.consolidation.archiveRetention),
        ]
        var beforeCommit: (@Sendable ([Memory]) throws -> Void)?
        if let exporter, !context.dryRun {
            beforeCommit = { memories in try exporter.append(memories) }
        }
        // Passes over each target's index collect what is due (an empty first pass ends the run
        // at once); each pass is deleted in rowid order, so the table is walked front to back.
        passes: for (index, target) in targets.enumerated() {
            var cursor: Cursor? = .start
            while let after = cursor {
                let pass = try await context.store.dueForPurge(target, after: after, limit: Self.passSize)
                cursor = pass.next
                var rest = pass.rowids[...]
                while !rest.isEmpty {
                    let batch = try await context.store.purgeRows(
                        rest.prefix(config.batchSize), target: target, dryRun: context.dryRun, bound: context.batchBound,
                        beforeCommit: beforeCommit)
                    deleted[index] += batch.deletedCount
                    context.progressed(batch.handled)
                    rest = rest.dropFirst(batch.handled)
                    guard try await context.nextBatchAllowed() else {
                        report.complete = false
                        break passes
                    }
                }
            }
        }
        var pruned = 0
        if report.complete {
            pruned += try await prune(context) { limit in
                try await context.store.pruneWebhookReceipts(
                    before: context.now - config.webhookReceiptsRetention, limit: limit, dryRun: context.dryRun)
            }
            pruned += try await prune(context) { limit in
                try await context.store.pruneLLMAnswers(
                    before: context.now - SpendLedger.answerLifetime, limit: limit, dryRun: context.dryRun)
            }
            pruned += try await prune(context) { limit in
                try await context.store.pruneJobRuns(
                    before: context.now - config.jobRunsRetention, limit: limit, dryRun: context.dryRun)
            }
        }
        let memories = deleted[0] + deleted[1]
        if !context.dryRun, memories >= config.reclaimAfterRows {
            try await context.store.reclaimSpace(vacuumPages: config.vacuumPages)
        }
        report.deletedMemories = deleted[0]
        report.deletedArchived = deleted[1]
        report.examined = memories + pruned
        report.changed = memories + pruned
        return report
    }

    /// Rowids collected per pass over an index: 800 KB, a few hundred transactions' worth.
    static let passSize = 100_000

    /// Runs a prune step until a batch comes back short (a dry run counts everything at once).
    static func prune(_ context: JobContext, step: (Int) async throws -> Int) async throws -> Int {
        let limit = context.configuration.purge.batchSize
        var total = 0
        while true {
            let count = try await step(limit)
            total += count
            guard count == limit, !context.dryRun, try await context.nextBatchAllowed() else { return total }
        }
    }
}

/// Appends purged memories to `purge-YYYY-MM-DD.jsonl` in `purge.export_dir`, durable (fsync)
/// before the deleting transaction commits: a crash can repeat a line, never lose one. A write
/// that failed (disk full) is cut back off at once, and a partial last line left by a killed
/// process is cut off before the next append, so the file always holds whole lines: the
/// memories of that partial line were never deleted, and are exported again with their batch.
final class PurgeExporter: Sendable {
    let path: String

    init(directory: String, now: UnixMillis) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error
            throw PurgeExportError(path: directory, errno: underlying.map { Int32(($0 as NSError).code) } ?? EIO)
        }
        let day = TimeFormat.rfc3339(now).prefix(10)
        path = URL(fileURLWithPath: directory).appendingPathComponent("purge-\(day).jsonl").path
    }

    func append(_ memories: [Memory]) throws {
        guard !memories.isEmpty else { return }
        let bytes = Array(memories.map { Interchange.line(for: $0) + "\n" }.joined().utf8)
        let created = access(path, F_OK) != 0
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw PurgeExportError(path: path, errno: errno) }
        defer { close(fd) }
        let start = try Self.wholeLinesEnd(fd, path: path)
        guard ftruncate(fd, start) == 0 else { throw PurgeExportError(path: path, errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, $0.count - offset, start + off_t(offset)) }
            guard written > 0 else {
                let failure = errno
                // Back to whole lines before the batch rolls back.
                _ = ftruncate(fd, start)
                _ = fsync(fd)
                throw PurgeExportError(path: path, errno: failure)
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            let failure = errno
            _ = ftruncate(fd, start)
            throw PurgeExportError(path: path, errno: failure)
        }
        // A new file is durable only once its directory entry is.
        if created {
            let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                defer { close(directory) }
                guard fsync(directory) == 0 else { throw PurgeExportError(path: path, errno: errno) }
            }
        }
    }

    /// The file's length up to and including its last newline: where the whole lines end.
    static func wholeLinesEnd(_ fd: Int32, path: String) throws -> off_t {
        var end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw PurgeExportError(path: path, errno: errno) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while end > 0 {
            let length = min(off_t(chunk.count), end)
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(length), end - length) }
            guard read == Int(length) else { throw PurgeExportError(path: path, errno: read < 0 ? errno : EIO) }
            if let newline = chunk[0..<Int(length)].lastIndex(of: UInt8(ascii: "\n")) {
                return end - length + off_t(newline) + 1
            }
            end -= length
        }
        return 0
    }
}

public struct PurgeExportError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot write purge export \(path): \(String(cString: strerror(errno)))" }
}
