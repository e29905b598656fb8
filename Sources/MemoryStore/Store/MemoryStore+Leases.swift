import GRDB

public enum LeaseOutcome: Sendable, Equatable {
    case acquired
    case heldBy(holder: String, expiresAt: UnixMillis)
}

extension MemoryStore {
    /// Takes the lease of `job` for `holder` until `now + ttl`, if it is free, expired, already
    /// ours, or held by a holder that `isHolderDead` says is gone (a crashed process on this host).
    /// Leases run on real time, never on a `--now` clock, because they arbitrate between live processes.
    public func acquireLease(
        job: String, holder: String, now: UnixMillis, ttl: UnixMillis,
        isHolderDead: @escaping @Sendable (String) -> Bool
    ) async throws -> LeaseOutcome {
        if case .postgres(let postgres) = engine {
            return try await postgres.acquireLease(job: job, holder: holder, now: now, ttl: ttl, isHolderDead: isHolderDead)
        }
        return try await transaction { db in
            if let row = try Row.fetchOne(db, sql: "SELECT holder, expires_at FROM leases WHERE job = ?", arguments: [job]) {
                let current: String = row["holder"]
                let expiresAt: UnixMillis = row["expires_at"]
                if current != holder, expiresAt > now, !isHolderDead(current) {
                    return .heldBy(holder: current, expiresAt: expiresAt)
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO leases (job, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(job) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                        expires_at = excluded.expires_at
                    """,
                arguments: [job, holder, now, now + ttl])
            return .acquired
        }
    }

    /// Extends a lease we hold; false when it was lost (taken over after expiry).
    public func renewLease(job: String, holder: String, now: UnixMillis, ttl: UnixMillis) async throws -> Bool {
        if case .postgres(let postgres) = engine {
            return try await postgres.renewLease(job: job, holder: holder, now: now, ttl: ttl)
        }
        return try await transaction { db in
            try db.execute(
                sql: "UPDATE leases SET expires_at = ? WHERE job = ? AND holder = ?",
                arguments: [now + ttl, job, holder])
            return db.changesCount == 1
        }
    }

    public func releaseLease(job: String, holder: String) async throws {
        if case .postgres(let postgres) = engine { return try await postgres.releaseLease(job: job, holder: holder) }
        try await transaction { db in
            try db.execute(sql: "DELETE FROM leases WHERE job = ? AND holder = ?", arguments: [job, holder])
        }
    }
}

extension MemoryStore {
    /// The current holder of a job's lease, if any and unexpired at `now`.
    public func leaseHolder(job: String, now: UnixMillis) async throws -> String? {
        if case .postgres(let postgres) = engine { return try await postgres.leaseHolder(job: job, now: now) }
        return try await read { db in
            try String.fetchOne(
                db, sql: "SELECT holder FROM leases WHERE job = ? AND expires_at > ?", arguments: [job, now])
        }
    }

    /// SQLite's own integrity checks of the file and of the full-text index; on PostgreSQL
    /// (whose pages check themselves) the invariants between memkeep's tables.
    public func integrityCheck() async throws -> [String] {
        if case .postgres(let postgres) = engine { return try await postgres.integrityProblems() }
        countAccess()
        return try await sqlitePool(#function).writeWithoutTransaction { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            do {
                try db.execute(sql: "INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)")
            } catch {
                problems.append("memories_fts: \(error)")
            }
            return problems
        }
    }
}
