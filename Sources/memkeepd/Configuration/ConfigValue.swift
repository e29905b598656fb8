import Foundation
import Maintenance
import MemoryStore

/// Readers for the scalar forms the configuration accepts, each failing with the rule it checks.
enum ConfigValue {
    /// A file path, `sqlite:PATH` or `postgres://user@host:port/db?sslmode=…`.
    static func storeLocation(_ text: String) throws(ConfigReason) -> StoreLocation {
        do {
            return try StoreLocation.parse(text)
        } catch {
            throw ConfigReason(error.reason)
        }
    }

    /// `500ms`, `90s`, `30m`, `4h`, `30d`; a bare `0` means zero.
    static func duration(_ text: String) throws(ConfigReason) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "0" { return .zero }
        for (suffix, millis) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if suffix == "s", number.hasSuffix("m") { continue }
            guard let value = Int64(number), value >= 0 else { break }
            // Every deadline is computed from a duration in Int64 milliseconds: bounding them
            // here keeps that arithmetic from overflowing anywhere later.
            guard value <= Validation.maxDurationSeconds * 1000 / millis else {
                throw ConfigReason("must be at most 100 years (\(Validation.maxDurationSeconds / 86_400)d)")
            }
            return .milliseconds(value * millis)
        }
        throw ConfigReason("must be a duration such as 500ms, 90s, 30m, 4h or 30d")
    }

    static func positiveDuration(_ text: String) throws(ConfigReason) -> Duration {
        let value = try duration(text)
        guard value > .zero else { throw ConfigReason("must be more than 0") }
        return value
    }

    /// `1048576`, `512KiB`, `1MiB`.
    static func byteSize(_ text: String) throws(ConfigReason) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for (suffix, factor) in [("KiB", 1024), ("MiB", 1024 * 1024), ("", 1)] where trimmed.hasSuffix(suffix) {
            if let value = Int(trimmed.dropLast(suffix.count)), value > 0, value <= (64 << 20) / factor {
                return value * factor
            }
            break
        }
        throw ConfigReason("must be a size from 1 byte to 64MiB, such as 1048576, 512KiB or 1MiB")
    }

    static func millis(_ text: String) throws(ConfigReason) -> UnixMillis {
        try duration(text).milliseconds
    }

    /// Counts and sizes (batch sizes, sessions, characters): a billion is far beyond any sane one.
    static let maxCount = 1_000_000_000

    static func positiveInt(_ text: String) throws(ConfigReason) -> Int {
        try int(text, in: 1...maxCount)
    }

    /// A token budget: a whole number of tokens, or `none` for no limit.
    static func tokenBudget(_ text: String) throws(ConfigReason) -> Int? {
        if text.trimmingCharacters(in: .whitespaces) == "none" { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1, value <= 1_000_000_000_000 else {
            throw ConfigReason("must be a whole number of tokens from 1 to 1000000000000, or none")
        }
        return value
    }

    static func int(_ text: String, in range: ClosedRange<Int>) throws(ConfigReason) -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), range.contains(value) else {
            throw ConfigReason("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An http(s) URL with a host; empty means unset.
    static func httpURL(_ text: String) throws(ConfigReason) -> String? {
        guard !text.isEmpty else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigReason("must be an http:// or https:// URL such as http://127.0.0.1:8080/v1")
        }
        return text
    }

    /// A number in 0…1; `word` names the keyword the key also takes, for the error.
    static func fraction(_ text: String, orWord word: String? = nil) throws(ConfigReason) -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), value >= 0, value <= 1 else {
            throw ConfigReason("must be \(word.map { "\($0) or " } ?? "")a number between 0 and 1")
        }
        return value
    }

    static func nonNegative(_ text: String) throws(ConfigReason) -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), value >= 0, value <= 1e6 else {
            throw ConfigReason("must be a number from 0 to 1000000")
        }
        return value
    }
}

struct ConfigReason: Error {
    var text: String
    init(_ text: String) { self.text = text }
}
