import Foundation
import Testing
import TestSupport

/// memkeepd as the README's "Install as a service" lays it out: the shipped configuration in
/// /etc/memkeep, the state directory systemd hands over in `$STATE_DIRECTORY`, run from `/`.
@Suite struct InstalledLayoutTests {
    static let shipped = TestModel.repository.appendingPathComponent("config/memkeep.yaml").path

    /// The layout under a scratch directory: the shipped file as /etc/memkeep/memkeep.yaml and an
    /// empty state directory, with the unit's environment; `withModel` installs the model where
    /// the recipe puts it (`scripts/fetch-model /var/lib/memkeep/var/models/…`).
    static func installed(withModel: Bool) throws -> (Memkeepd, config: String) {
        var m = try Memkeepd()
        let etc = m.directory.appendingPathComponent("etc/memkeep")
        let state = m.directory.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let config = etc.appendingPathComponent("memkeep.yaml").path
        try FileManager.default.copyItem(atPath: shipped, toPath: config)
        if withModel {
            let models = state.appendingPathComponent("var/models")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: models.appendingPathComponent("all-MiniLM-L6-v2").path, withDestinationPath: TestModel.directory)
        }
        m.environment["STATE_DIRECTORY"] = state.path
        m.environment["MEMKEEP_STORE_PATH"] = state.appendingPathComponent("memkeep.db").path
        m.workingDirectory = URL(fileURLWithPath: "/")
        return (m, config)
    }

    @Test func theInstalledServiceRecallsAParaphraseByItsVector() async throws {
        let (m, config) = try Self.installed(withModel: true)
        let daemon = try await m.serve(["--config", config])
        let facts = [
            "The customer's backend runs on PostgreSQL 14.", "Standup moved to Tuesdays.", "The invoice PDF has a typo.",
            "Melanie paints landscapes on weekends.",
        ]
        for fact in facts {
            let stored = try await httpRequest(daemon.port, "POST", "/v1/memory/store", #"{"agent_id":"installed","content":"\#(fact)"}"#)
            #expect(stored.status == 200 || stored.status == 201, "\(stored.body)")
        }
        let recalled = try await httpRequest(
            daemon.port, "POST", "/v1/memory/recall", #"{"agent_id":"installed","query":"Which database do they use?","top_k":1}"#)
        let hits = recalled.json?["memories"] as? [[String: Any]]
        let top = hits?.first
        #expect((top?["memory"] as? [String: Any])?["content"] as? String == facts[0], "\(recalled.body)")
        #expect((top?["score"] as? Double ?? 0) > 0, "ranked by its vector: the question shares no word with it")
        let health = try await httpGet(daemon.port, "/health").json?["recall"] as? [String: Any]
        #expect(health?["mode"] as? String == "vectors")
        #expect(health?["model"] as? String == "all-MiniLM-L6-v2")
        #expect(try await httpGet(daemon.port, "/metrics").body.contains(#"memkeep_recall_vectors{model="all-MiniLM-L6-v2"} 1"#))
        let (exit, _) = await daemon.stop()
        #expect(exit == 0)
    }

    @Test func theShippedConfigurationWithoutItsModelExits78NamingTheFix() async throws {
        let (m, config) = try Self.installed(withModel: false)
        do {
            let daemon = try await m.serve(["--config", config])
            _ = await daemon.stop()
            Issue.record("memkeepd served without its model")
        } catch let failure as Memkeepd.StartFailure {
            #expect(failure.status == 78)
            #expect(failure.stderr.contains("scripts/fetch-model"), "\(failure.stderr)")
            #expect(failure.stderr.contains("/state/var/models/all-MiniLM-L6-v2"), "names where it looked: \(failure.stderr)")
        }
    }

    /// `auto` without the model still serves, and says so wherever an operator looks.
    @Test func recallByFullTextOnlyIsSaidInHealthMetricsAndStatus() async throws {
        var (m, config) = try Self.installed(withModel: false)
        m.environment["MEMKEEP_EMBEDDINGS_PROVIDER"] = "auto"
        let daemon = try await m.serve(["--config", config])
        let health = try await httpGet(daemon.port, "/health").json?["recall"] as? [String: Any]
        #expect(health?["mode"] as? String == "full_text")
        #expect((health?["reason"] as? String)?.contains("no embedding model in") == true, "\(String(describing: health))")
        #expect(try await httpGet(daemon.port, "/metrics").body.contains(#"memkeep_recall_vectors{model=""} 0"#))
        _ = await daemon.stop()
        let status = try await m.run("status", "--config", config)
        #expect(status.stdout.contains("recall     by full text only: no embedding model in"), "\(status.stdout)")
        let json = try await m.run("status", "--json", "--config", config)
        #expect(json.stdout.contains(#""recall":{"mode":"full_text""#), "\(json.stdout)")
    }
}
