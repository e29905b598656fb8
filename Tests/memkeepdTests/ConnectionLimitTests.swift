import Foundation
import Testing
import TestSupport

/// Idle and slow clients against a real `memkeepd serve`: a connection cap that refuses cleanly
/// and says so once, and header, body and idle timeouts that drop what never finishes. Every
/// wait is for an event (a reply, the server closing); no test measures a time.
@Suite struct ConnectionLimitTests {
    @Test func pastTheCapNewConnectionsGet503AndTheDaemonRecoversWhenClientsLeave() async throws {
        let m = try Memkeepd(DaemonTests.quiet.merging(["MEMKEEP_HTTP_MAX_CONNECTIONS": "20"]) { $1 })
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        // Twenty keep-alive clients, each answered once (so each holds its place), then idle.
        var idle: [RawSocket] = []
        for _ in 0..<20 {
            let socket = try #require(RawSocket(port: daemon.port))
            #expect(socket.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"))
            #expect(await socket.read(until: "alive").contains("HTTP/1.1 200"))
            idle.append(socket)
        }
        for _ in 0..<3 {
            let refused = try #require(await RawSocket.exchange(port: daemon.port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
            #expect(refused.contains("http.max_connections"))
        }
        idle.removeAll()
        // The idle clients left: the next probe gets through.
        #expect(try await m.waitUntil {
            await RawSocket.exchange(port: daemon.port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?
                .hasPrefix("HTTP/1.1 200") == true
        })
        let (exit, stderr) = await daemon.stop()
        #expect(exit == 0)
        #expect(stderr.components(separatedBy: "connection limit reached").count - 1 == 1, "logged once: \(stderr)")
    }

    @Test func idleSlowHeaderAndSlowBodyConnectionsAreClosed() async throws {
        let m = try Memkeepd(DaemonTests.quiet.merging([
            "MEMKEEP_HTTP_IDLE_TIMEOUT": "1s", "MEMKEEP_HTTP_HEADER_TIMEOUT": "1s", "MEMKEEP_HTTP_BODY_TIMEOUT": "1s",
        ]) { $1 })
        let daemon = try await m.serve()
        #expect(try await daemon.notify.next("READY=1") != nil)
        let silent = try #require(RawSocket(port: daemon.port))
        let slowHeader = try #require(RawSocket(port: daemon.port))
        #expect(slowHeader.send("GET /health HTTP/1.1\r\nHost: x\r\n"))
        let slowBody = try #require(RawSocket(port: daemon.port))
        #expect(slowBody.send("POST /v1/memory/store HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"agent"))
        // Each ends with the server closing, and no answer (the body one may get an error reply).
        #expect(await silent.readToEnd().isEmpty)
        #expect(await slowHeader.readToEnd().isEmpty)
        _ = await slowBody.readToEnd()
        // A request that arrives whole is answered, and keep-alive goes on.
        let keepAlive = try #require(RawSocket(port: daemon.port))
        #expect(keepAlive.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        let answers = await keepAlive.readToEnd()
        #expect(answers.components(separatedBy: "HTTP/1.1 200").count - 1 == 2, "\(answers)")
        #expect(try await m.store().counts(now: 0).liveMemories == 0)
        #expect(await daemon.stop().status == 0)
    }

    /// Under a low open-file limit the cap is lowered to fit, and said; a limit too low for
    /// any useful cap stops start-up with 78.
    @Test func theConnectionCapIsLoweredToFitTheOpenFileLimit() async throws {
        let m = try Memkeepd(["MEMKEEP_HTTP_MAX_CONNECTIONS": "1024"])
        let daemon = try await m.serve(launcher: ["/usr/bin/prlimit", "--nofile=256:256"])
        let (exit, stderr) = await daemon.stop()
        #expect(exit == 0, "\(stderr)")
        #expect(stderr.contains("http.max_connections lowered from 1024 to 192 to fit the open-file limit"), "\(stderr)")
    }

    @Test func serveRefusesToStartWhenTheOpenFileLimitLeavesNoRoom() async throws {
        let m = try Memkeepd(["MEMKEEP_HTTP_MAX_CONNECTIONS": "1024"])
        let (process, _, err) = try m.start(["serve"], launcher: ["/usr/bin/prlimit", "--nofile=64:64"])
        let (status, _, stderr) = await process.finish(stderr: err)
        #expect(status == 78, "\(stderr)")
        #expect(stderr.contains("http.max_connections: the open-file limit is 64, too low for 16 connections"), "\(stderr)")
    }
}
