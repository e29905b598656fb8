import Foundation
import Synchronization

/// A progress line on standard error while a long command runs (copy-store, import, export, run):
/// done, total, rate and time left,
/// rewritten in place at most five times a second. Only when standard error is a terminal: a
/// journal or a pipe gets nothing.
final class Progress: Sendable {
    private struct State {
        var done = 0
        var lastDrawn: ContinuousClock.Instant?
    }

    private let label: String
    private let total: Int
    private let started = ContinuousClock.now
    private let shown = Progress.isShown

    /// Whether standard error is a terminal: a journal or a pipe gets no progress lines.
    static var isShown: Bool { isatty(STDERR_FILENO) == 1 }
    private let state = Mutex(State())

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    func advance(by count: Int = 1) {
        guard shown else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            state.done += count
            if let last = state.lastDrawn, now - last < .milliseconds(200) { return nil }
            state.lastDrawn = now
            return Self.line(label: label, done: state.done, total: total, elapsed: now - started)
        }
        if let line { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8)) }
    }

    func finish() {
        guard shown else { return }
        let done = state.withLock { $0.done }
        let line = Self.line(label: label, done: done, total: total, elapsed: .now - started)
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + "\n").utf8))
    }

    /// "copied agents 1200/5000, 340/s, 11 s left". A total that was an estimate and is passed
    /// shows as the count done.
    static func line(label: String, done: Int, total estimate: Int, elapsed: Duration) -> String {
        let total = max(done, estimate)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\(label) \(done)/\(total), \(Int(rate.rounded()))/s"
        if rate > 0, done < total { text += ", \(Int((Double(total - done) / rate).rounded(.up))) s left" }
        return text
    }
}
