import Logging

/// The connection pool's log, less one warning: the pool warns when a connection is asked for
/// before its `run()` task has begun, which `MemoryStore.withStore` cannot order (it starts
/// `run()` in a child task and the first query may come first). The request waits for the pool
/// either way, so the warning would only alarm operators at every start.
struct PoolLogHandler: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard !event.message.description.hasPrefix("Trying to lease connection from `PostgresClient`, but") else { return }
        wrapped.log(event: event)
    }

    static func logger(wrapping logger: Logger) -> Logger {
        Logger(label: logger.label) { _ in PoolLogHandler(wrapped: logger.handler) }
    }
}
