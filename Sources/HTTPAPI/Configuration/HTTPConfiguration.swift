import Crypto
import MemoryService
import MemoryStore

/// The HTTP listener and the API's own settings.
public struct HTTPConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 3300
    /// Request bodies over this many bytes are refused with 413.
    public var maxBody = 1 << 20
    /// Open connections at most; more are answered 503 and closed.
    public var maxConnections = 1024
    /// A connection with no request in progress (keep-alive, or nothing sent yet) is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// From a request's first byte to its complete head, and from the head to the end of the body.
    public var limits = ConnectionLimits(header: .seconds(10), body: .seconds(30))
    /// With none, the API is open and may only listen on loopback.
    public var keys: [APIKey] = []
    /// `whsec_…` secrets, as configured; the first also signs beacon tokens.
    public var webhookSecrets: [String] = []
    public var webhookTolerance: UnixMillis = 300_000
    public var beaconLifetime: UnixMillis = 86_400_000
    public var recall = RecallWeights()

    public init() {}

    /// `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks a free one.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }

    /// Loopback only: what an unauthenticated server may bind to.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
