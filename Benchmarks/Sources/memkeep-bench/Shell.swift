import Foundation

/// Subprocesses of the benchmark: the sqlite3 CLI, Python, wrk, memkeepd.
enum Shell {
    struct Result {
        var status: Int32
        var output: String
        var seconds: Double
    }

    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        let started = ContinuousClock.now
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: data, as: UTF8.self),
            seconds: (ContinuousClock.now - started).seconds)
    }

    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Removes a store file and its WAL and shared-memory files, if there are any.
    static func removeStore(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Copies a store file (checkpointed, so the main file is the whole store).
    static func copyStore(_ source: String, to destination: String) throws {
        removeStore(destination)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Latency percentiles of a sample, in milliseconds.
struct Percentiles: Codable {
    var count: Int
    var p50Ms: Double
    var p99Ms: Double
    var maxMs: Double

    init(count: Int, p50Ms: Double, p99Ms: Double, maxMs: Double) {
        self.count = count
        self.p50Ms = p50Ms
        self.p99Ms = p99Ms
        self.maxMs = maxMs
    }

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ fraction: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
        self.init(count: sorted.count, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.last ?? 0)
    }

    enum CodingKeys: String, CodingKey {
        case count
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case maxMs = "max_ms"
    }
}
