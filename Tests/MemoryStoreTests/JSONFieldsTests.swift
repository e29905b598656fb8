import MemoryStore
import Testing

/// The one set of rules by which HTTP and MCP bodies and import lines are read.
@Suite struct JSONFieldsTests {
    @Test(arguments: [
        (JSONValue.number(1_700_000_000), UnixMillis(1_700_000_000_000)),
        (.number(1_700_000_000.0015), 1_700_000_000_002),
        (.string("1700000000"), 1_700_000_000_000),
        (.string("2023-11-14T22:13:20Z"), 1_700_000_000_000),
        (.number(0), 0),
    ])
    func timesAreUnixSecondsToTheMillisecondOrRFC3339(value: JSONValue, millis: UnixMillis) throws {
        #expect(try JSONFields(["at": value]).optionalTime("at") == millis)
    }

    @Test(arguments: [
        (JSONValue.number(-1), "at must be Unix seconds"),
        (.number(1e11), "at must be Unix seconds"),
        (.string("1969-12-31T23:59:59Z"), "at must be Unix seconds or an RFC 3339 time"),
        (.string("soon"), "at must be Unix seconds or an RFC 3339 time"),
        (.bool(true), "at must be Unix seconds or an RFC 3339 time"),
    ])
    func badTimesNameTheField(value: JSONValue, message: String) {
        #expect(throws: FieldError.self) { try JSONFields(["at": value]).optionalTime("at") }
        do {
            _ = try JSONFields(["at": value]).optionalTime("at")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(arguments: [
        (JSONValue.number(1.5), "n must be an integer"),
        (.string("3"), "n must be a number"),
        (.number(1e300), "n must be an integer"),
    ])
    func integersAreExact(value: JSONValue, message: String) {
        #expect(throws: FieldError(field: "n", reason: String(message.dropFirst(2)))) {
            try JSONFields(["n": value]).optionalInt("n")
        }
    }

    @Test func aNestedObjectNamesItsFieldsWithItsPrefix() {
        let fields = JSONFields(["fate": .number(1)], prefix: "consolidation.")
        #expect(throws: FieldError(field: "consolidation.fate", reason: "must be a string")) { try fields.string("fate") }
        #expect(throws: FieldError(field: "consolidation.id", reason: "is required")) { try fields.string("id") }
    }
}
