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

    /// Compact JSON text with sorted keys, byte for byte what `JSONEncoder` with `.sortedKeys`
    /// and `.withoutEscapingSlashes` writes (stored metadata and exports depend on it), written
    /// by hand: the encoder was a sixth of a heartbeat's time.
    public func jsonText() -> String {
        var text: [UInt8] = []
        text.reserveCapacity(128)
        write(into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    func write(into text: inout [UInt8]) {
        switch self {
        case .null: text += "null".utf8
        case .bool(let value): text += (value ? "true" : "false").utf8
        case .number(let value): text += Self.numberText(value).utf8
        case .string(let value): Self.writeString(value, into: &text)
        case .array(let values):
            text.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                value.write(into: &text)
            }
            text.append(UInt8(ascii: "]"))
        case .object(let fields):
            text.append(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &text)
                text.append(UInt8(ascii: ":"))
                fields[key]!.write(into: &text)
            }
            text.append(UInt8(ascii: "}"))
        }
    }

    /// As `encode(to:)` has `JSONEncoder` write a number: a whole one below 9e15 as an integer,
    /// any other as the Double's shortest description without a trailing ".0". A JSON value
    /// holds no NaN or infinity (parsing refuses them); were one made in code, it is written as
    /// null rather than as invalid JSON.
    static func numberText(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value.rounded() == value, abs(value) < 9.0e15 { return String(Int64(value)) }
        let description = value.description
        return description.hasSuffix(".0") ? String(description.dropLast(2)) : description
    }

    static func writeString(_ value: String, into text: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        text.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): text += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): text += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: text += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: text += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: text += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: text += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: text += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20: text += "\\u00".utf8 + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: text.append(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
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
