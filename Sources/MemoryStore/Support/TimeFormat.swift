import Foundation

/// RFC 3339 parsing and printing for the CLI and the JSON-lines formats.
public enum TimeFormat {
    /// `2026-06-01T00:00:00.000Z`: always UTC, always milliseconds, so exports are byte-stable.
    public static func rfc3339(_ millis: UnixMillis) -> String {
        let seconds = millis.floorDiv(1000)
        let ms = millis - seconds * 1000
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, Int(ms))
    }

    /// `2026-06-01`: the UTC day, as summaries and context blocks date what was said.
    public static func day(_ millis: UnixMillis) -> String { String(rfc3339(millis).prefix(10)) }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; returns nil for anything else.
    public static func parseRFC3339(_ text: String) -> UnixMillis? {
        let s = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= s.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard s[i] >= 48, s[i] <= 57 else { return nil }
                value = value * 10 + Int(s[i] - 48)
            }
            return value
        }
        guard s.count >= 20,
            let year = digits(0, 4), s[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), s[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), s[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), s[16] == UInt8(ascii: ":"),
            let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fractionMillis = 0
        if index < s.count, s[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 100
            let start = index
            while index < s.count, s[index] >= 48, s[index] <= 57 {
                fractionMillis += Int(s[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < s.count else { return nil }
        var offsetSeconds = 0
        if s[index] == UInt8(ascii: "Z") || s[index] == UInt8(ascii: "z") {
            index += 1
        } else if s[index] == UInt8(ascii: "+") || s[index] == UInt8(ascii: "-") {
            let sign = s[index] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = digits(index + 1, 2), index + 3 < s.count, s[index + 3] == UInt8(ascii: ":"),
                let om = digits(index + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            index += 6
        } else {
            return nil
        }
        guard index == s.count else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components),
            calendar.component(.day, from: date) == day
        else { return nil }
        let seconds = Int64(date.timeIntervalSince1970) - Int64(offsetSeconds)
        return seconds * 1000 + Int64(fractionMillis)
    }
}

extension Int64 {
    func floorDiv(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
