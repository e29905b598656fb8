import Foundation

/// The open-file limit against `http.max_connections`: without room for every allowed
/// connection, accept() fails with EMFILE and the daemon stops answering everyone, the probes
/// included. The soft limit is raised to the hard one, as daemons do; when even that cannot
/// hold the cap, the cap is lowered to fit (and the caller says so), and a limit too small for
/// any useful cap is an error.
enum FileDescriptorLimit {
    /// Descriptors memkeepd needs besides connections: the store and its WAL, the listener,
    /// the journal, NIO's event loops.
    static let reserve = 64
    /// Below this many connections the daemon would not be worth running.
    static let minimumConnections = 16

    /// The connection cap that fits the open-file limit, at most `connections`.
    static func connections(fitting connections: Int) throws(ConfigurationError) -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let room = Int(clamping: limit.rlim_cur) - reserve
        guard room >= minimumConnections else {
            throw ConfigurationError(
                source: "configuration", line: nil, key: "http.max_connections",
                reason: "the open-file limit is \(limit.rlim_cur), too low for \(minimumConnections) connections: raise LimitNOFILE=")
        }
        return min(connections, room)
    }
}
