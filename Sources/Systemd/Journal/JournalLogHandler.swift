import CSystemd
import Foundation
import Logging

/// Sends native journal entries with `sd_journal_sendv`: MESSAGE, PRIORITY,
/// SYSLOG_IDENTIFIER, the caller's CODE_FILE/CODE_LINE/CODE_FUNC, TID, and every metadata entry
/// as a field (`memkeep.job` → `MEMKEEP_JOB`). Values may hold newlines: the native protocol
/// carries them, unlike stderr lines.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let identifier: String

    public init(identifier: String, level: Logger.Level) {
        self.identifier = identifier
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The entry's fields, in order, as `NAME=value`.
    public static func fields(
        identifier: String, level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata, file: String,
        function: String, line: UInt, threadID: Int32
    ) -> [String] {
        var fields = [
            "MESSAGE=\(message)", "PRIORITY=\(SyslogPriority.of(level))", "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(file)", "CODE_LINE=\(line)", "CODE_FUNC=\(function)", "TID=\(threadID)",
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            guard let name = JournalFieldName.sanitize(key) else { continue }
            fields.append("\(name)=\(value)")
        }
        return fields
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = Self.fields(
            identifier: identifier, level: event.level, message: event.message, metadata: merged, file: event.file,
            function: event.function, line: event.line, threadID: memkeep_gettid())
        Self.send(fields)
    }

    /// One contiguous buffer for all fields, one iovec per field.
    @discardableResult
    static func send(_ fields: [String]) -> Int32 {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            var vectors = ranges.map { range in
                iovec(iov_base: buffer.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return sd_journal_sendv(&vectors, Int32(vectors.count))
        }
    }
}

/// syslog priorities, as journald's PRIORITY and the `<N>` prefix of stderr lines.
public enum SyslogPriority {
    public static func of(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
