import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Unix datagram socket the test binds and hands to `memkeepd serve` as `NOTIFY_SOCKET`,
/// recording every notification with the time it arrived. A reader thread drains it all the
/// time, as systemd does: Linux queues only a few datagrams, and a full queue blocks the sender.
final class NotifySocket: @unchecked Sendable {
    struct Message {
        var text: String
        var at: ContinuousClock.Instant
        var lines: [Substring] { text.split(separator: "\n") }
    }

    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [Message] = []
    private var closed = false
    /// Messages before this index have been matched by `next`.
    private var cursor = 0

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread { [self] in readUntilClosed() }
    }

    private func readUntilClosed() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ closed }) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = Message(text: String(decoding: buffer[0..<count], as: UTF8.self), at: .now)
            lock.withLock { received.append(message) }
        }
        Foundation.close(fd)
    }

    /// Stops reading (the reader thread closes the socket); what was received stays.
    func finish() { lock.withLock { closed = true } }

    var messages: [Message] { lock.withLock { received } }

    /// The next message, after the last one matched, with a line for which `predicate` holds.
    func next(timeout: Duration = .seconds(30), where predicate: (Substring) -> Bool) async throws -> Message? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lock.withLock { () -> Message? in
                guard let index = received[cursor...].firstIndex(where: { $0.lines.contains(where: predicate) }) else {
                    return nil
                }
                cursor = index + 1
                return received[index]
            }
            if let found { return found }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func next(_ line: String, timeout: Duration = .seconds(30)) async throws -> Message? {
        try await next(timeout: timeout) { $0 == line }
    }

    /// Everything received so far with a line starting with `prefix`.
    func all(withPrefix prefix: String) -> [Message] {
        messages.filter { $0.lines.contains { $0.hasPrefix(prefix) } }
    }
}

/// A loopback port nothing listens on right now.
func freePort() -> Int {
    let (fd, port) = loopbackSocket()
    close(fd)
    return port
}

/// A TCP socket bound to a free loopback port (the caller closes it, or listens on it to hold
/// the port).
func loopbackSocket() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

struct HTTPResult {
    var status: Int
    var body: String
    var headers: [String: String] = [:]

    init(_ response: URLResponse, _ data: Data) {
        let http = response as! HTTPURLResponse
        status = http.statusCode
        body = String(decoding: data, as: UTF8.self)
        for case (let name as String, let value as String) in http.allHeaderFields { headers[name] = value }
    }

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }
}

func httpGet(_ port: Int, _ path: String) async throws -> HTTPResult {
    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    return HTTPResult(response, data)
}

func httpRequest(
    _ port: Int, _ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:],
    timeout: TimeInterval = 60
) async throws -> HTTPResult {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: timeout)
    request.httpMethod = method
    request.httpBody = body.map { Data($0.utf8) }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    let (data, response) = try await URLSession.shared.data(for: request)
    return HTTPResult(response, data)
}

/// `memkeepd serve` as a subprocess with its notify socket and port.
struct ServingDaemon {
    let process: Process
    let stdout: Pipe
    let stderr: Pipe
    let notify: NotifySocket
    let port: Int

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Sends SIGTERM and waits for the exit; returns the exit status and stderr.
    func stop() async -> (status: Int32, stderr: String) {
        signal(SIGTERM)
        let (status, _, text) = await process.finish(stderr: stderr)
        notify.finish()
        return (status, text)
    }
}

extension Memkeepd {
    struct StartFailure: Error, CustomStringConvertible {
        var status: Int32
        var stderr: String
        var description: String { "memkeepd serve exited \(status) before READY=1: \(stderr)" }
    }

    /// Starts `serve` with a notify socket and returns once it has sent READY=1 (which tests may
    /// still match). A port another test took between `freePort` and the bind is retried with a
    /// new one; any other early exit throws with the daemon's stderr. `watchdog` sets WATCHDOG_USEC.
    func serve(_ arguments: [String] = [], watchdog: Duration? = nil, launcher: [String] = []) async throws -> ServingDaemon {
        var daemon = self
        let notify = try NotifySocket(directory: directory)
        daemon.environment["NOTIFY_SOCKET"] = notify.path
        if let watchdog {
            daemon.environment["WATCHDOG_USEC"] = "\(watchdog.components.seconds * 1_000_000 + watchdog.components.attoseconds / 1_000_000_000_000)"
        }
        for attempt in 1...5 {
            let port = freePort()
            daemon.environment["MEMKEEP_HTTP_LISTEN"] = "127.0.0.1:\(port)"
            let (process, out, err) = try daemon.start(["serve"] + arguments, launcher: launcher)
            while !notify.messages.contains(where: { $0.lines.contains("READY=1") }) {
                if !process.isRunning {
                    let (status, _, stderr) = await process.finish(stderr: err)
                    guard attempt < 5, stderr.contains("in use") else { throw StartFailure(status: status, stderr: stderr) }
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning || notify.messages.contains(where: { $0.lines.contains("READY=1") }) {
                return ServingDaemon(process: process, stdout: out, stderr: err, notify: notify, port: port)
            }
        }
        throw StartFailure(status: -1, stderr: "no free port after 5 attempts")
    }
}
