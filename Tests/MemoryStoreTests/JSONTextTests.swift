import Foundation
import MemoryStore
import Testing

/// `JSONValue.jsonText()` is written by hand for speed; stored metadata, tags and exports need it
/// byte for byte as `JSONEncoder` (sorted keys, slashes unescaped) wrote it before. The encoder is
/// the oracle.
@Suite struct JSONTextTests {
    static func oracle(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let controlCharacters = String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })

    @Test(arguments: [
        JSONValue.null, .bool(true), .bool(false), .number(0), .number(-0.0), .number(1), .number(-1), .number(0.1),
        .number(3.14), .number(1e15), .number(1e16), .number(1e21), .number(1.5e-7), .number(2.5e-6), .number(0.000123),
        .number(123456789012), .number(9007199254740991), .number(-9007199254740991), .number(1.7976931348623157e308),
        .number(.leastNonzeroMagnitude), .number(0.72), .string(""), .string("plain"), .string("quote \" backslash \\ slash / end"),
        .string(controlCharacters), .string("é ü 中文 😀 \u{7f} \u{2028} \u{2029}"), .array([]), .emptyObject,
        .array([.number(1), .string("a"), .null, .array([.bool(true)])]),
        .object(["b": .number(1), "a10": .number(2), "a9": .number(3), "B": .number(4), "_x": .null, "é": .string("x"),
                 "Z": .array([]), "aB": .emptyObject, "ab": .object(["z": .number(1), "y": .object(["k": .string("v/w")])])]),
    ])
    func textIsWhatJSONEncoderWrites(value: JSONValue) throws {
        #expect(value.jsonText() == (try Self.oracle(value)))
    }

    @Test func textParsesBackToTheSameValue() throws {
        let value = JSONValue.object([
            "text": .string(Self.controlCharacters + "\"\\/😀"), "n": .number(0.1), "list": .array([.number(1e21), .null]),
        ])
        #expect(try JSONValue.parse(value.jsonText()) == value)
    }
}
