import ArgumentParser
import Crypto
import Foundation
import MemoryStore
import Synchronization

/// Copies the configured store into another, empty one (SQLite to PostgreSQL or back), agent by
/// agent, so that at most one agent's records are in memory at a time; then checks that both
/// hold the same counts and export, agent by agent, to the same bytes (SHA-256).
struct CopyStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-store",
        abstract: "Copy the configured store into another, empty store, and verify the copy.",
        discussion: """
            The destination is a file path, sqlite:PATH or postgres://user@host:port/db?sslmode=…; \
            its password comes from --to-password-file or the credential store-password. Vectors \
            are not copied: the destination's embed job makes them again.
            """)

    @Option(help: "The destination store.")
    var to: String

    @Option(help: "A file holding the destination PostgreSQL password.")
    var toPasswordFile: String?

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var destination: StoreLocation
        do {
            destination = try StoreLocation.parse(to)
        } catch {
            throw ValidationError("--to \(error)")
        }
        if case .postgres(var postgres) = destination {
            postgres.password = try Credential.read(
                file: toPasswordFile, key: "--to-password-file", credential: "store-password",
                environment: ProcessInfo.processInfo.environment)
            destination = .postgres(postgres)
        }
        let target = destination
        try await withApp(options, access: .readOnly) { app in
            guard "\(target)" != app.store.path else {
                throw ValidationError("--to names the configured store itself")
            }
            try await MemoryStore.withStore(at: target, logger: app.logger) { copy in
                let held = try await copy.counts(now: app.clock.now())
                guard held.openSessions + held.endedSessions + held.liveMemories + held.archivedMemories
                    + held.expiredMemories == 0
                else {
                    throw ValidationError("the destination \(target) is not empty; copy-store writes only into an empty store")
                }
                let agents = try await app.store.agents()
                let progress = Progress(label: "copied agents", total: agents.count)
                let source = Digest()
                for agent in agents {
                    let lines = LineBatch()
                    try await app.store.export(agentID: agent.agentID) { line in
                        source.add(line)
                        lines.append(line)
                    }
                    _ = try await copy.importLines(lines.all.map { Substring($0) })
                    progress.advance()
                }
                progress.finish()
                let copied = Digest()
                for agent in agents { try await copy.export(agentID: agent.agentID) { copied.add($0) } }
                let now = app.clock.now()
                let (from, into) = (try await app.store.counts(now: now), try await copy.counts(now: now))
                guard from == into, source.hex == copied.hex else {
                    printError(
                        "memkeepd: the copy differs from the source: counts \(from) against \(into), SHA-256 \(source.hex) against \(copied.hex)")
                    throw Exit.jobFailed
                }
                print(
                    "copied \(from.openSessions + from.endedSessions) sessions and "
                        + "\(from.liveMemories + from.archivedMemories + from.expiredMemories) memories to \(target); "
                        + "export SHA-256 \(source.hex) on both")
            }
        }
    }
}

/// A running SHA-256 of export lines (each with its newline, as `export` writes them).
private final class Digest: Sendable {
    private let hash = Mutex(SHA256())
    func add(_ line: String) { hash.withLock { $0.update(data: Data((line + "\n").utf8)) } }
    var hex: String { hash.withLock { $0.finalize() }.map { String(format: "%02x", $0) }.joined() }
}

private final class LineBatch: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
