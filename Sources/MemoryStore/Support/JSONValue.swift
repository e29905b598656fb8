import Foundation

/// Free-form JSON (memory and session metadata), kept exactly as given and printed with sorted
/// keys so that exports are byte-stable.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            try Self.checkExact(value, decoder)
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            // Not `try?`: an inexact number deep inside must reach the caller as itself.
            do {
                self = .array(try container.decode([JSONValue].self))
            } catch let error as InexactNumber {
                throw error
            } catch {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }
    }

    /// A number JSON text states that a Double cannot hold exactly (an integer beyond ±2^53):
    /// refused rather than silently changed.
    public struct InexactNumber: Error, CustomStringConvertible {
        /// Where in the document, `metadata.order_id` style; empty at the top.
        public var path: String
        public var reason: String { "holds a number beyond ±(2^53−1), which cannot be kept exactly; send it as a string" }
        public var description: String { "\(path.isEmpty ? "value" : path) \(reason)" }
    }

    /// Set in a decoder's `userInfo` to refuse, in `metadata` (the free-form JSON that is stored
    /// and given back), numbers a Double cannot hold exactly: beyond ±(2^53−1), where every
    /// double is an integer and neighbours are 2 or more apart. Set for what clients send;
    /// stored values are read as they are, and other fields have their own ranges.
    public static let exactNumbers = CodingUserInfoKey(rawValue: "memkeep.exactNumbers")!

    private static func checkExact(
        _ value: Double, _ decoder: any Decoder
    ) throws {
        guard abs(value) > 9_007_199_254_740_991, decoder.userInfo[exactNumbers] as? Bool == true,
            decoder.codingPath.contains(where: { $0.stringValue == "metadata" })
        else { return }
        throw InexactNumber(path: decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            .trimmingPrefix(".").description)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9.0e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public static let emptyObject = JSONValue.object([:])

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Compact JSON text with sorted keys.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to a JSON value.
        let data = try! encoder.encode(self)
        return String(decoding: data, as: UTF8.self)
    }

    /// `exactNumbers`: refuse numbers a Double cannot hold exactly (for what comes from outside).
    public static func parse(_ text: String, exactNumbers: Bool = false) throws -> JSONValue {
        // Most stored metadata and tags are empty: skip the decoder for them (it dominates
        // reading memories in bulk, as consolidation does).
        switch text {
        case "{}": return .emptyObject
        case "[]": return .array([])
        default: return try parse(bytes: Data(text.utf8), exactNumbers: exactNumbers)
        }
    }

    public static func parse(bytes data: Data, exactNumbers: Bool = false) throws -> JSONValue {
        let decoder = JSONDecoder()
        if exactNumbers { decoder.userInfo[Self.exactNumbers] = true }
        return try decoder.decode(JSONValue.self, from: data)
    }
}
