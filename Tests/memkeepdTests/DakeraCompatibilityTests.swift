import Foundation
import Testing
import TestSupport

/// The official `dakera` Python SDK, installed with pip in a virtual environment, runs the
/// script `Tests/compat/dakera_compat.py` unchanged against a live `memkeepd serve`.
@Suite struct DakeraCompatibilityTests {
    static let sdkVersion = "0.14.1"
    static let repository = SystemdUnitTests.repository

    static func python() async throws -> String {
        try await PythonEnvironment.python(name: "dakera-\(sdkVersion)", packages: ["dakera==\(sdkVersion)"], probe: "import dakera")
    }

    /// With the built-in model and without one: recall serves the script's session-start and
    /// just-stored questions either way.
    @Test(arguments: TestBackend.allCases, ["builtin", "none"])
    func theOfficialPythonSDKRunsUnchangedAgainstMemkeepd(backend: TestBackend, provider: String) async throws {
        let python = try await Self.python()
        let key = "compat-key-\(UUID().uuidString)"
        let digest = try await Process.tool("/usr/bin/sh", ["-c", "printf %s '\(key)' | sha256sum"]).output.prefix(64)
        let environment = [
            "MEMKEEP_ORPHANS_MAX_SLEEP": "1h", "MEMKEEP_EMBEDDINGS_PROVIDER": provider,
            "MEMKEEP_EMBEDDINGS_MODEL_DIR": TestModel.directory,
        ]
        try await Memkeepd.with(backend, environment) { m in
            let config = try m.write(
                "memkeep.yaml",
                """
                auth:
                  keys:
                    - sha256: \(digest)
                      scope: admin
                      agents: "support-customer-*"
                """)
            let daemon = try await m.serve(["--config", config])
            #expect(try await daemon.notify.next("READY=1") != nil)
            let script = Self.repository.appendingPathComponent("Tests/compat/dakera_compat.py").path
            let run = try await Process.tool(python, [script, "http://127.0.0.1:\(daemon.port)", key])
            let (exit, stderr) = await daemon.stop()
            #expect(run.status == 0, "\(run.output)\n--- memkeepd stderr ---\n\(stderr)")
            #expect(run.output.contains("all ok"), "\(run.output)")
            #expect(exit == 0)
        }
    }
}
