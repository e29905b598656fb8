import Synchronization

/// Per-agent copies of rows that recall reads on every call (vectors, full-text postings), in
/// memory, bounded in bytes (least recently used out first). A copy is checked against the
/// agent's generation, counts of the rows inserted and deleted that triggers keep in the store:
/// unchanged, it is used as is; only inserts since, the rows after its last are appended; any
/// delete (or changed content), it is read again whole. On PostgreSQL a row can commit after a
/// row with a later `seq` (its transaction took the number first but committed second):
/// appended rows that fall short of the inserts counted since mean such a row was passed over,
/// and the copy is read again whole.
final class GenerationCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// A kept copy and what it was read at.
    struct Entry: Sendable {
        let value: Value
        let inserted: Int64
        let deleted: Int64
        /// The last row read (SQLite rowid, PostgreSQL seq).
        let maxRowID: Int64
        let rows: Int
        let bytes: Int
    }

    /// What a read needs: the kept copy as it is, or the rows after `base`'s last appended to it
    /// (every row when `base` is nil).
    enum Lookup {
        case current(Value)
        case extend(base: Entry?)
    }

    private struct State: ~Copyable {
        var entries: [Key: (entry: Entry, lastUse: UInt64)] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacityBytes: Int) {
        capacity = capacityBytes
    }

    var residentBytes: Int { state.withLock { $0.bytes } }

    func lookup(_ key: Key, inserted: Int64, deleted: Int64) -> Lookup {
        let cached = state.withLock { state -> Entry? in
            state.tick += 1
            guard let entry = state.entries[key] else { return nil }
            state.entries[key]?.lastUse = state.tick
            return entry.entry
        }
        // A copy read by a newer snapshot than the caller's serves it too: the rows it has
        // beyond the caller's are of memories the caller cannot see or has queued.
        if let cached, cached.inserted >= inserted, cached.deleted == deleted { return .current(cached.value) }
        return .extend(base: cached.flatMap { $0.deleted == deleted ? $0 : nil })
    }

    /// Keeps `entry`, read on top of `base`; false when the rows it appended fall short of the
    /// inserts counted since (the caller reads the agent again whole). Fewer rows also come from
    /// inserts the copy does not hold (vectors of another model): those agents are read whole
    /// each time.
    func keep(_ entry: Entry, key: Key, base: Entry?) -> Bool {
        if let base, Int64(entry.rows - base.rows) < entry.inserted - base.inserted { return false }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.entry.bytes }
            guard entry.bytes <= capacity else { return }
            state.tick += 1
            state.entries[key] = (entry, state.tick)
            state.bytes += entry.bytes
            while state.bytes > capacity, let victim = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries.removeValue(forKey: victim.key)
                state.bytes -= victim.value.entry.bytes
            }
        }
        return true
    }
}
