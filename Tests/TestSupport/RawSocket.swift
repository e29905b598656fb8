import Foundation

/// A TCP connection to a loopback port speaking raw bytes: for what an HTTP client library will
/// not send (chunked bodies of a chosen size, half-sent headers, idle connections). Blocking
/// socket calls run on a thread of their own, never on the test runner's cooperative threads.
public final class RawSocket: @unchecked Sendable {
    public let fd: Int32

    /// Connects to 127.0.0.1:`port`; nil when the connection is refused.
    public init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, connected == 0 else {
            if fd >= 0 { close(fd) }
            return nil
        }
    }

    deinit { close(fd) }

    /// Sends all of `text`; false once the peer has closed.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// What the peer sends until `marker` has arrived (or it closes), leaving the connection open.
    public func read(until marker: String, limit: Duration = .seconds(60)) async -> String {
        await receive(limit: limit) { String(decoding: $0, as: UTF8.self).contains(marker) }
    }

    /// Everything the peer sends until it closes the connection (or `limit` passes, a bound
    /// for a broken server, never the thing a test measures).
    public func readToEnd(limit: Duration = .seconds(60)) async -> String {
        await receive(limit: limit) { _ in false }
    }

    private func receive(limit: Duration, done: @escaping @Sendable ([UInt8]) -> Bool) async -> String {
        let fd = fd
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while !done(received) {
                    let count = recv(fd, &buffer, buffer.count, 0)
                    guard count > 0 else { break }
                    received += buffer[0..<count]
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }
        }
    }

    /// Sends a request with `Connection: close` and returns the whole answer.
    public static func exchange(port: Int, _ request: String) async -> String? {
        guard let socket = RawSocket(port: port), socket.send(request) else { return nil }
        return await socket.readToEnd()
    }
}
