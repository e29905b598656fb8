import Synchronization

/// What a `GenerationCache` keeps per key: an immutable copy built from rows read in row order.
protocol CachedRows: Sendable {
    var rowCount: Int { get }
    var bytes: Int { get }
}

/// Builds a `CachedRows` from rows appended in row order, starting from a kept copy (`base`) or
/// empty; a whole read is handed the copy it replaces (`previous`), whose work it may reuse for
/// rows it finds unchanged.
protocol RowsBuilder {
    associatedtype Key: Hashable & Sendable
    associatedtype Built: CachedRows
    init(key: Key, base: Built?, previous: Built?)
    func build() -> Built
}

/// Per-agent copies of rows that recall reads on every call (vectors, full-text postings), in
/// memory, bounded in bytes (least recently used out first). A copy is checked against the
/// agent's generation, counts of the rows inserted and deleted that triggers keep in the store:
/// unchanged, it is used as is; only inserts since, the rows after its last are appended; any
/// delete (or changed content), it is read again whole. On PostgreSQL a row can commit after a
/// row with a later `seq` (its transaction took the number first but committed second):
/// appended rows that fall short of the inserts counted since mean such a row was passed over,
/// and the copy is read again whole. Fewer rows also come from inserts the copy does not hold
/// (vectors of another model): those agents are read whole each time.
final class GenerationCache<Builder: RowsBuilder>: Sendable {
    typealias Key = Builder.Key
    typealias Value = Builder.Built

    /// A kept copy and what it was read at.
    struct Entry: Sendable {
        let value: Value
        let inserted: Int64
        let deleted: Int64
        /// The last row read (SQLite rowid, PostgreSQL seq).
        let maxRowID: Int64
    }

    /// What a read needs: the kept copy as it is, or rows to read into `Loading`.
    private enum Refresh {
        case current(Value)
        case load(Loading)
    }

    /// A copy being read: the rows after `maxRowID`, in row order, added to `rows`.
    struct Loading {
        let key: Key
        let inserted: Int64
        let deleted: Int64
        let base: Entry?
        var rows: Builder
        private(set) var maxRowID: Int64

        init(key: Key, inserted: Int64, deleted: Int64, base: Entry?, previous: Value? = nil) {
            self.key = key
            self.inserted = inserted
            self.deleted = deleted
            self.base = base
            rows = Builder(key: key, base: base?.value, previous: previous)
            maxRowID = base?.maxRowID ?? 0
        }

        /// Notes that the row `rowID` was added to `rows`.
        mutating func read(rowID: Int64) { maxRowID = max(maxRowID, rowID) }
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

    /// The key's current copy at this generation: the kept one, or one that `rows` adds the
    /// rows after `loading.maxRowID` to (in row order, calling `loading.read(rowID:)` for each).
    func read(_ key: Key, inserted: Int64, deleted: Int64, rows: (inout Loading) throws -> Void) rethrows -> Value {
        var step = refresh(key, inserted: inserted, deleted: deleted)
        while true {
            switch step {
            case .current(let value): return value
            case .load(var loading):
                try rows(&loading)
                step = finish(loading)
            }
        }
    }

    /// `read` with rows that come from an asynchronous query (PostgreSQL).
    func read(_ key: Key, inserted: Int64, deleted: Int64, rows: (inout Loading) async throws -> Void) async rethrows
        -> Value
    {
        var step = refresh(key, inserted: inserted, deleted: deleted)
        while true {
            switch step {
            case .current(let value): return value
            case .load(var loading):
                try await rows(&loading)
                step = finish(loading)
            }
        }
    }

    /// Decides from the key's generation whether its kept copy is current, can be extended by the
    /// rows inserted since, or must be read whole.
    private func refresh(_ key: Key, inserted: Int64, deleted: Int64) -> Refresh {
        let cached = state.withLock { state -> Entry? in
            state.tick += 1
            guard let entry = state.entries[key] else { return nil }
            state.entries[key]?.lastUse = state.tick
            return entry.entry
        }
        // A copy read by a newer snapshot than the caller's serves it too: the rows it has
        // beyond the caller's are of memories the caller cannot see or has queued.
        if let cached, cached.inserted >= inserted, cached.deleted == deleted { return .current(cached.value) }
        guard let cached, cached.deleted == deleted else {
            return .load(Loading(key: key, inserted: inserted, deleted: deleted, base: nil, previous: cached?.value))
        }
        return .load(Loading(key: key, inserted: inserted, deleted: deleted, base: cached))
    }

    /// The copy `loading` read, kept for the next read; or, when its appended rows fall short of
    /// the inserts counted, a whole read to do instead.
    private func finish(_ loading: Loading) -> Refresh {
        let value = loading.rows.build()
        if let base = loading.base, Int64(value.rowCount - base.value.rowCount) < loading.inserted - base.inserted {
            return .load(
                Loading(key: loading.key, inserted: loading.inserted, deleted: loading.deleted, base: nil, previous: base.value))
        }
        keep(Entry(value: value, inserted: loading.inserted, deleted: loading.deleted, maxRowID: loading.maxRowID), key: loading.key)
        return .current(value)
    }

    private func keep(_ entry: Entry, key: Key) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.entry.value.bytes }
            guard entry.value.bytes <= capacity else { return }
            state.tick += 1
            state.entries[key] = (entry, state.tick)
            state.bytes += entry.value.bytes
            while state.bytes > capacity, let victim = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries.removeValue(forKey: victim.key)
                state.bytes -= victim.value.entry.value.bytes
            }
        }
    }
}
