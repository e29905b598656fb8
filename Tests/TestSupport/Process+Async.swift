import Foundation

extension Process {
    /// Waits for the process to exit and reads what it wrote to the given pipes, on threads of
    /// its own: the test runner's few cooperative threads stay free for the other tests, and
    /// both pipes drain at once, so a child that fills one cannot stall on it.
    public func finish(stdout: Pipe? = nil, stderr: Pipe? = nil) async -> (status: Int32, stdout: String, stderr: String) {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let group = DispatchGroup()
                let output = Captured()
                for (pipe, index) in [(stdout, 0), (stderr, 1)] {
                    guard let pipe else { continue }
                    group.enter()
                    Thread.detachNewThread {
                        output.set(index, pipe.fileHandleForReading.readDataToEndOfFile())
                        group.leave()
                    }
                }
                group.wait()
                self.waitUntilExit()
                let status = self.terminationReason == .exit ? self.terminationStatus : -self.terminationStatus
                continuation.resume(returning: (status, output.text(0), output.text(1)))
            }
        }
    }
}

extension Process {
    /// Runs `path` with `arguments` to its end; stdout and stderr together.
    public static func tool(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let (status, output, _) = await process.finish(stdout: pipe)
        return (status, output)
    }
}

private final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var data: [Int: Data] = [:]

    func set(_ index: Int, _ value: Data) { lock.withLock { data[index] = value } }
    func text(_ index: Int) -> String { lock.withLock { String(decoding: data[index] ?? Data(), as: UTF8.self) } }
}
