import Foundation
import MemoryStore
import TestSupport

/// The real `memkeepd` binary, run as a subprocess in a scratch directory with its own store.
struct Memkeepd {
    private(set) var directory: URL
    var environment: [String: String]
    /// Where commands run: the scratch directory unless a test moves it (an installed service
    /// runs from `/`).
    var workingDirectory: URL?

    static let binary: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("memkeepd").path
    }()

    init(_ extra: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeepd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        environment = ["MEMKEEP_STORE_PATH": directory.appendingPathComponent("store.db").path, "MEMKEEP_LOG_LEVEL": "warning"]
            .merging(extra) { $1 }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        location = .sqlite(path: environment["MEMKEEP_STORE_PATH"]!)
    }

    /// A scratch directory and a store of `backend` for the duration of `body`: the SQLite file
    /// in the directory, or a fresh PostgreSQL database (its password in a file, as an operator
    /// would give it), dropped afterwards.
    static func with(
        _ backend: TestBackend, _ extra: [String: String] = [:], _ body: @Sendable (Memkeepd) async throws -> Void
    ) async throws {
        switch backend {
        case .sqlite:
            try await body(Memkeepd(extra))
        case .postgres:
            try await TestPostgres.withDatabase { location in
                var m = try Memkeepd(extra)
                var url = location
                url.password = nil
                m.environment["MEMKEEP_STORE_PATH"] = nil
                m.environment["MEMKEEP_STORE_URL"] = "\(StoreLocation.postgres(url))"
                m.environment["MEMKEEP_STORE_PASSWORD_FILE"] = try m.write("store-password", location.password ?? "")
                m.location = .postgres(location)
                try await body(m)
            }
        }
    }

    /// Another scratch directory on the same store and environment: a second node.
    func sibling() throws -> Memkeepd {
        var other = self
        other.directory = FileManager.default.temporaryDirectory.appendingPathComponent("memkeepd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: other.directory, withIntermediateDirectories: true)
        return other
    }

    /// The store the subprocesses use, as the test process opens it.
    var location: StoreLocation

    var storePath: String { environment["MEMKEEP_STORE_PATH"]! }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts memkeepd with `arguments`; `launcher` runs it through another command
    /// (`["/usr/bin/prlimit", "--nofile=256:256"]`).
    func start(_ arguments: [String], launcher: [String] = []) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher.first ?? Self.binary)
        process.arguments = launcher.isEmpty ? arguments : launcher.dropFirst() + [Self.binary] + arguments
        process.environment = environment
        process.currentDirectoryURL = workingDirectory ?? directory
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    @discardableResult
    func run(_ arguments: String...) async throws -> Result {
        let (process, out, err) = try start(arguments)
        let (status, stdout, stderr) = await process.finish(stdout: out, stderr: err)
        return Result(status: status, stdout: stdout, stderr: stderr)
    }

    /// Runs memkeepd with standard error on a pseudo-terminal (util-linux `script` makes one), as
    /// an operator at a shell would, and standard output in a file; `terminal` is what appeared
    /// on the terminal.
    func runOnTerminal(_ arguments: String...) async throws -> (status: Int32, stdout: String, terminal: String) {
        let output = directory.appendingPathComponent("terminal-stdout-\(UUID().uuidString)").path
        let quoted = ([Self.binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["--quiet", "--return", "--command", quoted.joined(separator: " ") + " > '\(output)'", "/dev/null"]
        process.environment = environment
        process.currentDirectoryURL = workingDirectory ?? directory
        let terminal = Pipe()
        process.standardOutput = terminal
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let (status, shown, _) = await process.finish(stdout: terminal)
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "", shown)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Opens the same store file in the test process, as an embedder would.
    func store() throws -> MemoryStore { try MemoryStore(path: storePath) }

    /// Opens the subprocesses' store (either backend) in the test process for `body`.
    @discardableResult
    func withStore<T: Sendable>(_ body: @Sendable (MemoryStore) async throws -> T) async throws -> T {
        try await MemoryStore.withStore(at: location) { try await body($0) }
    }

    /// Waits until a subprocess holds the job's lease (it is past start-up and inside the job).
    func waitForLease(_ job: String) async throws -> Bool {
        try await withStore { store in
            try await waitUntil { try await store.leaseHolder(job: job, now: SystemClock().now()) != nil }
        }
    }

    /// Waits for an event in the store (a lease taken, a row changed), checking every 10 ms.
    /// `limit` only bounds a broken build; no test measures it.
    func waitUntil(limit: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

/// Test data as JSON lines: `agents` agents with `sessions` ended sessions of `facts` memories.
func seedLines(agents: Int, sessions: Int, facts: Int, expiredExtra: Int = 0) -> String {
    var lines: [String] = []
    for a in 0..<agents {
        for s in 0..<sessions {
            let sid = "s-\(a)-\(s)"
            lines.append(#"{"type":"session","id":"\#(sid)","agent_id":"agent-\#(a)","started_at":\#(1_700_000_000 + s * 100),"ended_at":\#(1_700_000_000 + s * 100 + 50)}"#)
            for f in 0..<facts {
                lines.append(#"{"type":"memory","id":"m-\#(a)-\#(s)-\#(f)","agent_id":"agent-\#(a)","session_id":"\#(sid)","content":"agent \#(a) session \#(s) fact \#(f) detail\#(f * 13)","created_at":\#(1_700_000_000 + s * 100 + f)}"#)
            }
        }
    }
    for e in 0..<expiredExtra {
        lines.append(#"{"type":"memory","id":"x-\#(e)","agent_id":"agent-x","content":"transient \#(e)","created_at":1700000000,"expires_at":1700000100}"#)
    }
    return lines.joined(separator: "\n") + "\n"
}
