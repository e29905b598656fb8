import Foundation
import Maintenance
import MemoryStore
import Testing
import TestSupport

/// The shipped unit files and catalog, checked with systemd's own tools.
@Suite struct SystemdUnitTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let units = ["memkeepd.service", "memkeep-maintenance.service", "memkeep-maintenance.timer"].map {
        repository.appendingPathComponent("systemd/\($0)").path
    }

    @Test func unitFilesVerifyWithNoProblemButTheBinaryInstallPath() async throws {
        let (_, output) = try await Process.tool("/usr/bin/systemd-analyze", ["verify"] + Self.units)
        let problems = output.split(separator: "\n").filter { !$0.contains("/usr/local/bin/memkeepd") }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func theDaemonsExposureRatingIsAtMostOnePointFive() async throws {
        for unit in Self.units.filter({ $0.hasSuffix(".service") }) {
            let (_, output) = try await Process.tool("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
            let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") })
            let figure = try #require(Double(line.split(separator: ":").last!.split(separator: " ").first!))
            #expect(figure <= 1.5, "\(line)")
        }
    }

    @Test func theServiceIsANotifyServiceWithWatchdogAndNoRestartOnBadConfiguration() async throws {
        let text = try String(contentsOfFile: Self.units[0], encoding: .utf8)
        for directive in [
            "Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78", "ExecReload=",
            "StateDirectory=memkeep", "ConfigurationDirectory=memkeep", "ProtectSystem=strict",
            "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        ] {
            #expect(text.contains(directive), "\(directive)")
        }
        let timer = try String(contentsOfFile: Self.units[2], encoding: .utf8)
        #expect(timer.contains("Persistent=true") && timer.contains("RandomizedDelaySec="))
    }

    @Test func theCatalogCompilesAndDescribesEveryMessageID() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        let catalogs = root.appendingPathComponent("usr/lib/systemd/catalog")
        try FileManager.default.createDirectory(at: catalogs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("var/lib/systemd/catalog"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.repository.appendingPathComponent("systemd/memkeepd.catalog"),
            to: catalogs.appendingPathComponent("memkeepd.catalog"))
        let update = try await Process.tool("/usr/bin/journalctl", ["--root=\(root.path)", "--update-catalog"])
        #expect(update.status == 0, "\(update.output)")
        let listed = try await Process.tool("/usr/bin/journalctl", ["--root=\(root.path)", "--list-catalog"]).output
        for id in MessageID.all {
            #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            #expect(listed.contains("\(id) memkeep: "), "\(id) is not in the catalog")
        }
        #expect(Set(MessageID.all).count == MessageID.all.count)
    }
}
