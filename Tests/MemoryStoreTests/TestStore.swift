import Foundation
import MemoryStore

/// A real store in a fresh temporary directory, on a manual clock.
struct TestStore {
    let directory: URL
    let clock: ManualClock
    let store: MemoryStore

    static let t0: UnixMillis = 1_780_000_000_000

    init(defaultIdleTimeoutSeconds: Int64 = 1800) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        clock = ManualClock(Self.t0)
        store = try MemoryStore(
            path: directory.appendingPathComponent("store.db").path,
            configuration: StoreConfiguration(defaultIdleTimeoutSeconds: defaultIdleTimeoutSeconds), clock: clock)
    }

    func exportText(agentID: String? = nil) async throws -> String {
        let lines = LineCollector()
        try await store.export(agentID: agentID) { lines.append($0) }
        return lines.text
    }
}

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
    var all: [String] { lock.withLock { lines } }
}
