import MemoryStore

extension JSONValue {
    /// The string at a key of an object, for short assertions.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    public var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}

extension JSONValue {
    public var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
