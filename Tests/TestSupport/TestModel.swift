import Embeddings
import Foundation

/// The built-in model as the tests use it: the files `scripts/fetch-model` put under the
/// repository's `var/models`, loaded once per test process.
public enum TestModel {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let directory = repository.appendingPathComponent("var/models/\(BuiltinEmbedder.defaultModelName)").path

    private static let loaded = Result { try BuiltinEmbedder(directory: directory) }

    /// The shared embedder; fails (naming scripts/fetch-model) when the model is missing.
    public static func builtin() throws -> BuiltinEmbedder { try loaded.get() }
}

/// A Python virtual environment with `packages`, kept in the temporary directory between runs
/// on one machine (CI builds it fresh).
public enum PythonEnvironment {
    /// The environment's python, built once per process: test cases that run side by side
    /// (one per argument) share one build instead of clearing each other's.
    public static func python(name: String, packages: [String], probe: String) async throws -> String {
        try await Builds.shared.python(name: name) { try await build(name: name, packages: packages, probe: probe) }
    }

    private actor Builds {
        static let shared = Builds()
        var tasks: [String: Task<String, any Error>] = [:]

        func python(name: String, _ build: @escaping @Sendable () async throws -> String) async throws -> String {
            if let task = tasks[name] { return try await task.value }
            let task = Task { try await build() }
            tasks[name] = task
            return try await task.value
        }
    }

    private static func build(name: String, packages: [String], probe: String) async throws -> String {
        let venv = FileManager.default.temporaryDirectory.appendingPathComponent("memkeep-\(name)").path
        let python = venv + "/bin/python"
        if FileManager.default.isExecutableFile(atPath: python), try await Process.tool(python, ["-c", probe]).status == 0 {
            return python
        }
        let created = try await Process.tool("/usr/bin/python3", ["-m", "venv", "--clear", venv])
        guard created.status == 0 else { throw SetupError(step: "python3 -m venv \(venv)", output: created.output) }
        let installed = try await Process.tool(venv + "/bin/pip", ["install", "-q", "--disable-pip-version-check"] + packages)
        guard installed.status == 0 else { throw SetupError(step: "pip install \(packages)", output: installed.output) }
        return python
    }

    public struct SetupError: Error, CustomStringConvertible {
        public var step: String
        public var output: String
        public var description: String { "\(step) failed: \(output)" }

        public init(step: String, output: String) {
            self.step = step
            self.output = output
        }
    }
}
