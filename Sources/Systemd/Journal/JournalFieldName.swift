/// Journal field names: journald silently drops any field whose name is not `[A-Z0-9_]`, longer
/// than 64 characters, or starting with `_` (trusted fields) or a digit. Metadata keys such as
/// `memkeep.job` are turned into valid names (`MEMKEEP_JOB`) instead of being lost.
public enum JournalFieldName {
    public static let maximumLength = 64

    /// Fields the handler writes itself; metadata must not add a second copy of them.
    static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "TID",
    ]

    /// The journal name for a metadata key, or nil when nothing valid is left of it.
    public static func sanitize(_ key: String) -> String? {
        var name = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9", "_": name.unicodeScalars.append(scalar)
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(scalar.value - 32)!)
            default: name.unicodeScalars.append("_")
            }
        }
        let leading = name.unicodeScalars.prefix { $0 == "_" || ("0"..."9").contains($0) }.count
        name = String(name.unicodeScalars.dropFirst(leading).prefix(maximumLength))
        guard !name.isEmpty else { return nil }
        return reserved.contains(name) ? "META_" + name : name
    }
}
