public enum JobName: String, Sendable, Codable, CaseIterable, Hashable {
    case orphans, consolidate, decay, purge, embed
}
