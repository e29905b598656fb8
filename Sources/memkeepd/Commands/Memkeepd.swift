import ArgumentParser
import CoreMetrics
import Foundation
import MemoryStore

@main
struct Memkeepd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memkeepd",
        abstract: "Maintenance daemon for AI-agent memory stores.",
        subcommands: [
            ServeCommand.self, RunCommand.self, StatusCommand.self, ImportCommand.self, ExportCommand.self, RestoreCommand.self,
            ReconsolidateCommand.self, ExplainCommand.self, CloseSessionCommand.self, MigrateCommand.self,
            CheckConfigCommand.self, MCPCommand.self, CopyStoreCommand.self,
        ])
}

/// Exit codes (sysexits): what a wrapper script or systemd can act on.
enum Exit {
    static let jobFailed = ExitCode(1)
    static let dataError = ExitCode(65)
    /// The store could not be written (its disk is full).
    static let ioError = ExitCode(74)
    static let leaseHeld = ExitCode(75)
    static let badConfiguration = ExitCode(78)
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: config/memkeep.yaml if present).")
    var config: String?
}

extension AsyncParsableCommand {
    /// Runs `body` with the app, turning configuration and store errors into their exit codes.
    func withApp<T: Sendable>(
        _ options: GlobalOptions, clock: any WallClock = SystemClock(),
        metrics: any MetricsFactory = NOOPMetricsHandler.instance, access: MemoryStore.Access = .readWrite,
        withEmbedder: Bool = false, _ body: @Sendable (App) async throws -> T
    ) async throws -> T {
        do {
            return try await memkeepd.withApp(
                configPath: options.config ?? ProcessInfo.processInfo.environment["MEMKEEP_CONFIG"], clock: clock,
                metrics: metrics, access: access, withEmbedder: withEmbedder, body)
        } catch let error as AppSetupError {
            switch error {
            case .configuration:
                printError("memkeepd: bad configuration: \(error)")
                throw Exit.badConfiguration
            case .store, .failed:
                printError("memkeepd: \(error)")
                throw Exit.jobFailed
            }
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Maps a store error on user-supplied data to exit 65 with its message.
func dataError(_ error: any Error) -> ExitCode {
    dataError("\(error)")
}

func dataError(_ message: String) -> ExitCode {
    printError("memkeepd: \(message)")
    return Exit.dataError
}
