import HummingbirdCore
import Logging
import MemoryService
import MemoryStore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// HTTP/1.1 connections with limits, so that idle or slow clients cannot take the daemon
/// offline: at most `http.max_connections` at once (more are answered 503 and closed), and a
/// request head or body that arrives too slowly closes its connection. Idle keep-alive
/// connections are closed by Hummingbird's own idle timeout.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limiter: ConnectionLimiter
    let limits: ConnectionLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timeouts = RequestTimeouts(limits: limits)
        do {
            if limiter.admit() {
                channel.closeFuture.whenComplete { [limiter] _ in limiter.release() }
                try channel.pipeline.syncOperations.addHandler(RequestBytesWatcher(timeouts), position: .first)
            } else {
                // Set up like any connection (a failed setup would end the accept loop), but
                // answered 503 and closed before anything reaches the router.
                try channel.pipeline.syncOperations.addHandler(Refusal(), position: .first)
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let bound = NIOLoopBound(timeouts, eventLoop: channel.eventLoop)
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(
                RequestPartsWatcher(bound.value), position: .before(try operations.handler(type: HTTPConnectionStateHandler.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }

}

/// The first handler of a connection over the cap: answers 503 once the connection is active,
/// drops whatever the client sends, and closes.
final class Refusal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let text: String = {
        let body = #"{"code":"SERVICE_UNAVAILABLE","error":"too many open connections (http.max_connections); retry shortly","status":503}"#
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Retry-After: 1\r\nConnection: close\r\n\r\n" + body
    }()

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        let answer = context.channel.allocator.buffer(string: Self.text)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// The time limits of one connection.
public struct ConnectionLimits: Sendable, Equatable {
    /// From the first byte of a request to its complete head.
    public var header: Duration
    /// From the head to the end of the body.
    public var body: Duration

    public init(header: Duration, body: Duration) {
        self.header = header
        self.body = body
    }
}

/// Counts open connections against the cap, and logs each episode of refusals once.
final class ConnectionLimiter: Sendable {
    private struct State {
        var open = 0
        var refusing = false
    }

    let maximum: Int
    let logger: Logger
    private let state = Mutex(State())

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    func admit() -> Bool {
        let (admitted, episodeStarts) = state.withLock { state -> (Bool, Bool) in
            guard state.open < maximum else {
                defer { state.refusing = true }
                return (false, !state.refusing)
            }
            state.open += 1
            return (true, false)
        }
        if episodeStarts {
            logger.warning(
                "connection limit reached: \(maximum) open (http.max_connections); new connections get 503 until some close",
                metadata: [LogKey.messageID: .string(MessageID.connectionLimit)])
        }
        return admitted
    }

    func release() {
        let episodeEnds = state.withLock { state -> Bool in
            state.open -= 1
            // Hysteresis: one close at the limit does not end an episode of refusals.
            guard state.refusing, state.open < maximum * 9 / 10 else { return false }
            state.refusing = false
            return true
        }
        if episodeEnds { logger.notice("connections below the limit again: accepting new ones") }
    }
}

/// Where a connection's current request is, shared by the two watchers of one connection; they
/// run on its event loop only.
final class RequestTimeouts {
    enum Phase {
        case idle, head, body, handling
    }

    let limits: ConnectionLimits
    var phase = Phase.idle
    var timer: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func enter(_ phase: Phase, context: ChannelHandlerContext) {
        self.phase = phase
        timer?.cancel()
        timer = nil
        let limit: Duration? = switch phase {
        case .head: limits.header
        case .body: limits.body
        case .idle, .handling: nil
        }
        guard let limit else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: TimeAmount(limit)) { channel.close(promise: nil) }
    }
}

/// Before the HTTP decoder: the first bytes of a request start the header clock.
final class RequestBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let timeouts: RequestTimeouts

    init(_ timeouts: RequestTimeouts) {
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if timeouts.phase == .idle { timeouts.enter(.head, context: context) }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeouts.enter(.idle, context: context)
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: a complete head starts the body clock, the end of the body stops
/// it, and the end of the response makes the connection idle again.
final class RequestPartsWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeouts: RequestTimeouts

    init(_ timeouts: RequestTimeouts) {
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: timeouts.enter(.body, context: context)
        case .end: timeouts.enter(.handling, context: context)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), timeouts.phase == .handling { timeouts.enter(.idle, context: context) }
        context.write(data, promise: promise)
    }
}
