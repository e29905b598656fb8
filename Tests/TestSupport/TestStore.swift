import Foundation
import MemoryStore

/// A real store in a fresh temporary directory, on a manual clock.
public struct TestStore: Sendable {
    public let directory: URL
    public let clock: ManualClock
    public let store: MemoryStore

    public static let t0: UnixMillis = 1_780_000_000_000

    public init(defaultIdleTimeoutSeconds: Int64 = 1800) throws {
        directory = Self.newDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        clock = ManualClock(Self.t0)
        store = try MemoryStore(
            path: directory.appendingPathComponent("store.db").path,
            configuration: StoreConfiguration(defaultIdleTimeoutSeconds: defaultIdleTimeoutSeconds), clock: clock)
    }

    init(directory: URL, clock: ManualClock, store: MemoryStore) {
        self.directory = directory
        self.clock = clock
        self.store = store
    }

    static func newDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(UUID().uuidString)")
    }

    /// A real store of `backend` for the duration of `body`: a SQLite file in a fresh temporary
    /// directory, or a fresh PostgreSQL database (dropped afterwards) on the test cluster.
    @discardableResult
    public static func with<T: Sendable>(
        _ backend: TestBackend, defaultIdleTimeoutSeconds: Int64 = 1800, _ body: @Sendable (TestStore) async throws -> T
    ) async throws -> T {
        switch backend {
        case .sqlite:
            return try await body(TestStore(defaultIdleTimeoutSeconds: defaultIdleTimeoutSeconds))
        case .postgres:
            return try await TestPostgres.withDatabase { location in
                let directory = newDirectory()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                let clock = ManualClock(t0)
                return try await MemoryStore.withStore(
                    at: .postgres(location),
                    configuration: StoreConfiguration(defaultIdleTimeoutSeconds: defaultIdleTimeoutSeconds), clock: clock
                ) { store in
                    try await body(TestStore(directory: directory, clock: clock, store: store))
                }
            }
        }
    }

    public func exportText(agentID: String? = nil) async throws -> String {
        let lines = LineCollector()
        try await store.export(agentID: agentID) { lines.append($0) }
        return lines.text
    }

    /// The export with summary and consolidation ids (new random ids each run) replaced by the
    /// sources they name, and the metadata keys `dropping` left out, sorted: two consolidations
    /// that wrote the same things compare equal.
    public func normalizedExport(droppingMetadata dropping: Set<String> = []) async throws -> [String] {
        var lines = try await exportText().split(separator: "\n").map { try JSONValue.parse(String($0)).objectValue ?? [:] }
        var names: [String: String] = [:]
        var consolidations: [String: [String]] = [:]
        for line in lines {
            guard case .string(let id)? = line["id"] else { continue }
            if case .array(let sources)? = line["sources"], !sources.isEmpty {
                names[id] = "summary(\(sources.compactMap(\.text).sorted().joined(separator: ",")))"
            }
            if case .string(let consolidation)? = line["consolidation"]?.objectValue?["id"] {
                consolidations[consolidation, default: []].append(id)
            }
        }
        for (consolidation, members) in consolidations {
            names[consolidation] = "consolidation(\(members.sorted().joined(separator: ",")))"
        }
        for index in lines.indices {
            guard case .object(var metadata)? = lines[index]["metadata"] else { continue }
            for key in dropping { metadata[key] = nil }
            lines[index]["metadata"] = .object(metadata)
        }
        return lines.map { line in
            var text = JSONValue.object(line).jsonText()
            for (old, new) in names { text = text.replacingOccurrences(of: old, with: new) }
            return text
        }.sorted()
    }

    /// A store holding what this one holds (by export and import), on its own clock set to this
    /// one's time: the same history consolidated two ways.
    public func copy() async throws -> TestStore {
        let copy = try TestStore()
        copy.clock.set(clock.now())
        _ = try await copy.store.importLines(try await exportText().split(separator: "\n"))
        return copy
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
