public enum MemoryType: String, Sendable, Codable, CaseIterable, Hashable {
    case episodic, semantic, procedural, working
}

public enum EndedReason: String, Sendable, Codable, CaseIterable {
    case client, idle, webhook
}

public enum ArchivedReason: String, Sendable, Codable, CaseIterable {
    case consolidated, decayed
}
