import Foundation
import Logging

/// Log lines on stderr with a `<N>` syslog-priority prefix, which journald and systemd's
/// stderr capture understand; metadata follows as `key=value`.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public static func format(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata) -> String {
        var line = "<\(SyslogPriority.of(level))>\(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line.replacingOccurrences(of: "\n", with: " ") + "\n"
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        FileHandle.standardError.write(Data(Self.format(level: event.level, message: event.message, metadata: merged).utf8))
    }
}
