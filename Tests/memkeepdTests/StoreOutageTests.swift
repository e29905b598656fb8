import Foundation
import MemoryStore
import Testing
import TestSupport

/// PostgreSQL going away and coming back, as `memkeepd serve` sees it through a loopback proxy
/// (`Tests/tools/tcp_proxy.py`) that is stopped, cutting every connection, and started again on
/// the same port.
@Suite struct StoreOutageTests {
    /// The proxy as a subprocess, listening once its port file is written.
    struct Proxy {
        let process: Process
        let port: Int

        static func start(port: Int, target: Int, for m: Memkeepd) async throws -> Proxy {
            let portFile = m.directory.appendingPathComponent("proxy-port-\(UUID().uuidString)").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [
                SystemdUnitTests.repository.appendingPathComponent("Tests/tools/tcp_proxy.py").path, "\(port)", "\(target)",
                portFile,
            ]
            try process.run()
            let listening = try await m.waitUntil { FileManager.default.fileExists(atPath: portFile) || !process.isRunning }
            try #require(listening && process.isRunning, "the proxy did not start listening on port \(port)")
            let text = try String(contentsOfFile: portFile, encoding: .utf8)
            return Proxy(process: process, port: try #require(Int(text)))
        }

        func stop() async {
            process.terminate()
            _ = await process.finish()
        }
    }

    @Test func whileTheDatabaseIsAwayRequestsGet503AndOnceItIsBackTheDaemonServesAndListensAgain() async throws {
        let environment = ["MEMKEEP_EMBEDDINGS_PROVIDER": "none", "MEMKEEP_ORPHANS_MAX_SLEEP": "1h", "MEMKEEP_LOG_LEVEL": "notice"]
        try await Memkeepd.with(.postgres, environment) { m in
            guard case .postgres(var viaProxy) = m.location else { return }
            let databasePort = viaProxy.port
            var proxy = try await Proxy.start(port: 0, target: databasePort, for: m)
            viaProxy.port = proxy.port
            viaProxy.password = nil
            var node = m
            node.environment["MEMKEEP_STORE_URL"] = "\(StoreLocation.postgres(viaProxy))"
            let daemon = try await node.serve()
            do {
                #expect(try await daemon.notify.next("READY=1") != nil)
                let started = try await httpRequest(daemon.port, "POST", "/v1/sessions/start", #"{"agent_id": "a1"}"#)
                let id = try #require(try JSONValue.parse(started.body)["session"]?["id"]?.text)
                let touch = { try await httpRequest(daemon.port, "POST", "/v1/sessions/\(id)/touch", "{}", timeout: 20) }

                await proxy.stop()
                // Once the daemon has seen a connection fail (its idle-deadline channel's, at
                // once), a request waits at most 5 s for a connection, then answers 503. Before,
                // it may queue for a connection until the client gives up (nil here).
                var answers: [HTTPResult] = []
                let refusedInTime = try await m.waitUntil {
                    guard let answer = try? await touch() else { return false }
                    answers.append(answer)
                    return answer.status == 503
                }
                #expect(refusedInTime, "\(answers.map { "\($0.status) \($0.body)" })")
                #expect(answers.allSatisfy { $0.status == 503 }, "\(answers.map { "\($0.status) \($0.body)" })")
                let refused = try #require(answers.last)
                #expect(refused.json?["code"] as? String == "STORE_UNAVAILABLE")
                #expect(refused.headers["Retry-After"] == "1")

                proxy = try await Proxy.start(port: proxy.port, target: databasePort, for: m)
                let served = try await m.waitUntil { try await touch().status == 200 }
                #expect(served)
                // A deadline set by another process (this one, connected directly) reaches the
                // sweep, which sleeps up to an hour, only by the channel listened to again.
                let closed = try await m.withStore { store in
                    let direct = try await store.startSession(SessionStart(agentID: "direct", idleTimeoutSeconds: 1)).id
                    return try await m.waitUntil { try await store.session(id: direct)?.endedReason == .idle }
                }
                #expect(closed)
            } catch {
                daemon.signal(SIGKILL)
                await proxy.stop()
                throw error
            }
            let (status, stderr) = await daemon.stop()
            await proxy.stop()
            #expect(status == 0)
            for line in [
                "cannot reach PostgreSQL at", "requests answer 503 until it is back", "is reachable again",
                "lost the store's idle-deadline channel",
            ] {
                #expect(stderr.contains(line), "\(stderr)")
            }
            #expect(!stderr.contains("Generic description"), "PSQLError's own description hides the reason: \(stderr)")
        }
    }
}
