import Foundation
import Logging
import MCP

/// A transport that, once the client's input ends, ends only after the answers to the
/// requests it already read are sent. The server handles each request in a task of its own,
/// so without this `memkeepd mcp < requests.jsonl` would exit before it answers.
public actor DrainingTransport<Inner: Transport>: Transport {
    let inner: Inner
    public nonisolated let logger: Logger
    private var upstream: AsyncThrowingStream<Data, any Error>.AsyncIterator?
    /// The ids of requests read and not yet answered.
    private var unanswered: Set<String> = []
    private var drained: CheckedContinuation<Void, Never>?

    public init(_ inner: Inner, logger: Logger) {
        self.inner = inner
        self.logger = logger
    }

    public func connect() async throws {
        try await inner.connect()
        upstream = await inner.receive().makeAsyncIterator()
    }

    public func disconnect() async {
        await inner.disconnect()
    }

    public func send(_ data: Data) async throws {
        try await inner.send(data)
        for message in Self.messages(data) where message["method"] == nil {
            if let id = Self.id(message) { unanswered.remove(id) }
        }
        if unanswered.isEmpty, let drained {
            self.drained = nil
            drained.resume()
        }
    }

    public nonisolated func receive() -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { try await self.next() }
    }

    func next() async throws -> Data? {
        var iterator = upstream
        let data = try await iterator?.next(isolation: self)
        upstream = iterator
        if let data {
            for message in Self.messages(data) where message["method"] != nil {
                if let id = Self.id(message) { unanswered.insert(id) }
            }
            return data
        }
        if !unanswered.isEmpty {
            logger.debug("mcp input ended; answering \(unanswered.count) requests before stopping")
            await withCheckedContinuation { drained = $0 }
        }
        return nil
    }

    /// The JSON-RPC messages of one line: a message or a batch.
    static func messages(_ data: Data) -> [[String: Any]] {
        switch try? JSONSerialization.jsonObject(with: data) {
        case let message as [String: Any]: [message]
        case let batch as [Any]: batch.compactMap { $0 as? [String: Any] }
        default: []
        }
    }

    static func id(_ message: [String: Any]) -> String? {
        switch message["id"] {
        case let text as String: "s" + text
        case let number as NSNumber: "n\(number)"
        default: nil
        }
    }
}
