import Foundation
import MemoryStore

/// A request's JSON object, read by the store's one set of field rules.
public typealias JSONBody = JSONFields

extension JSONFields {
    /// A JSON object from raw bytes (the webhook route verifies the bytes before it parses).
    public static func parse(_ bytes: Data) throws -> JSONFields {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes, exactNumbers: true)
        } catch let error as JSONValue.InexactNumber {
            throw APIError.invalid(error.path.isEmpty ? "body" : error.path, error.reason)
        } catch {
            throw bytes.isEmpty ? APIError.invalid("body", "must be a JSON object") : APIError.invalid("body", "is not valid JSON")
        }
        guard let object = value.objectValue else { throw APIError.invalid("body", "must be a JSON object") }
        return JSONFields(object)
    }

}
