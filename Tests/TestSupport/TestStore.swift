import Foundation
import MemoryStore

/// A real store in a fresh temporary directory, on a manual clock.
public struct TestStore: Sendable {
    public let directory: URL
    public let clock: ManualClock
    public let store: MemoryStore

    public static let t0: UnixMillis = 1_780_000_000_000

    public init(defaultIdleTimeoutSeconds: Int64 = 1800) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        clock = ManualClock(Self.t0)
        store = try MemoryStore(
            path: directory.appendingPathComponent("store.db").path,
            configuration: StoreConfiguration(defaultIdleTimeoutSeconds: defaultIdleTimeoutSeconds), clock: clock)
    }

    public func exportText(agentID: String? = nil) async throws -> String {
        let lines = LineCollector()
        try await store.export(agentID: agentID) { lines.append($0) }
        return lines.text
    }
}

public final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    public init() {}
    public func append(_ line: String) { lock.withLock { lines.append(line) } }
    public var text: String { lock.withLock { lines.joined(separator: "\n") } }
    public var all: [String] { lock.withLock { lines } }
}
