/// A line of a consolidation summary as it is stored: "- [2023-05-08] text", or with the span of
/// the facts it stands for, "- [2023-03-01 – 2023-05-08] text". One format for the planner that
/// writes it and the context block that reads it.
public enum SummaryLine {
    /// "[2023-05-08]" or "[2023-03-01 – 2023-05-08]": when what follows was said.
    public static func date(oldest: UnixMillis, newest: UnixMillis) -> String {
        let first = TimeFormat.day(oldest)
        let last = TimeFormat.day(newest)
        return "[\(first == last ? last : "\(first) – \(last)")]"
    }

    public static func render(_ text: String, oldest: UnixMillis, newest: UnixMillis) -> String {
        "- \(date(oldest: oldest, newest: newest)) \(text)"
    }

    /// A stored line's date (nil for lines written before summaries were dated) and text.
    public static func parse(_ line: Substring) -> (date: String?, text: String) {
        let body = line.hasPrefix("- ") ? line.dropFirst(2) : line
        guard body.hasPrefix("["), let close = body.firstIndex(of: "]"),
            body[body.index(after: body.startIndex)..<close].first?.isNumber == true
        else { return (nil, String(body)) }
        let text = body[body.index(after: close)...].drop { $0 == " " }
        return (String(body[body.startIndex...close]), String(text))
    }
}
