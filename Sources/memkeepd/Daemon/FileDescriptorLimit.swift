import Foundation

/// The open-file limit against `http.max_connections`: without room for every allowed
/// connection, accept() fails with EMFILE and the daemon stops answering everyone, the probes
/// included. The soft limit is raised to the hard one, as daemons do; too little is an error.
enum FileDescriptorLimit {
    /// Descriptors memkeepd needs besides connections: the store and its WAL, the listener,
    /// the journal, NIO's event loops.
    static let reserve: rlim_t = 64

    /// The soft limit in force after raising it; throws when it cannot hold `connections`.
    @discardableResult
    static func ensure(connections: Int) throws(ConfigurationError) -> rlim_t {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let needed = rlim_t(connections) + reserve
        guard limit.rlim_cur >= needed else {
            throw ConfigurationError(
                source: "configuration", line: nil, key: "http.max_connections",
                reason: "needs \(needed) open files but the limit is \(limit.rlim_cur): lower it or raise LimitNOFILE=")
        }
        return limit.rlim_cur
    }
}
