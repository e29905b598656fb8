import Foundation

/// A tmpfs of a chosen size mounted in a fresh temporary directory (the tests run as root, as
/// CI does): a disk that fills up, or turns read-only, on the test's command. `with…` always
/// unmounts it, also when the body fails.
public struct TinyFilesystem: Sendable {
    public let directory: URL

    /// Whether this process may mount file systems (root).
    public static var available: Bool { getuid() == 0 }

    public static func with<T: Sendable>(size: String, _ body: (TinyFilesystem) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let filesystem = TinyFilesystem(directory: directory)
        try await filesystem.mount(["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory.path])
        do {
            let result = try await body(filesystem)
            try await filesystem.mount(["-l", directory.path], tool: "/bin/umount")
            return result
        } catch {
            try? await filesystem.mount(["-l", directory.path], tool: "/bin/umount")
            throw error
        }
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// `size=4m`, `ro`, `rw`: takes effect at once for new writes.
    public func remount(_ options: String) async throws {
        try await mount(["-o", "remount,\(options)", directory.path])
    }

    /// Takes all but about `leave` bytes of what is free, in a file `free()` removes.
    public func fill(leaving leave: Int) throws {
        var stats = statvfs()
        guard statvfs(directory.path, &stats) == 0 else { throw POSIXError(.EIO) }
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        let size = max(0, free - leave)
        guard FileManager.default.createFile(atPath: path(".filler"), contents: Data(count: size)) else { throw POSIXError(.ENOSPC) }
    }

    public func free() throws {
        try FileManager.default.removeItem(atPath: path(".filler"))
    }

    private func mount(_ arguments: [String], tool: String = "/bin/mount") async throws {
        let (status, text) = try await Process.tool(tool, arguments)
        guard status == 0 else {
            throw POSIXError(.EPERM, userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")): \(text)"])
        }
    }
}
