import Foundation
import Logging
import PostgresNIO

/// Versioned migrations of the PostgreSQL store, as `Schema` is for SQLite: the same tables,
/// columns, CHECK constraints and indexes, with PostgreSQL's own full-text search (a generated
/// `tsvector` under a GIN index) and triggers in PL/pgSQL. A migration, once shipped, is never
/// edited: add a new one.
///
/// Differences that the store's code relies on:
/// - `seq` (an identity column) on sessions, memories and vectors plays SQLite's `rowid`: the
///   tie-breaker of keyset paging, and the order in which an agent's vectors are cached.
/// - Text columns compare byte by byte (`COLLATE "C"`), as SQLite's do, whatever the database's
///   collation: ids sort the same on both backends, and exports come out in the same order.
/// - Times are `bigint` Unix milliseconds; JSON columns are `text`, so that the text written is
///   the text read back and exports stay byte-identical across backends.
enum PostgresSchema {
    static let migrations: [(id: String, sql: String)] = [
        ("v1-initial", """
            CREATE TABLE sessions (
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                id text COLLATE "C" PRIMARY KEY,
                agent_id text COLLATE "C" NOT NULL,
                started_at bigint NOT NULL,
                last_activity_at bigint NOT NULL,
                idle_timeout_s bigint CHECK (idle_timeout_s IS NULL OR idle_timeout_s >= 0),
                idle_deadline_at bigint,
                ended_at bigint,
                ended_reason text COLLATE "C" CHECK (ended_reason IN ('client', 'idle', 'webhook')),
                idle_since bigint,
                summary text COLLATE "C",
                metadata text COLLATE "C" NOT NULL DEFAULT '{}',
                consolidated_at bigint,
                consolidated_into text COLLATE "C",
                CHECK ((ended_at IS NULL) = (ended_reason IS NULL)),
                CHECK (ended_at IS NULL OR idle_deadline_at IS NULL)
            );
            CREATE INDEX sessions_by_idle_deadline ON sessions(idle_deadline_at, seq)
                WHERE idle_deadline_at IS NOT NULL;
            CREATE INDEX sessions_unconsolidated ON sessions(agent_id, started_at)
                WHERE ended_at IS NOT NULL AND consolidated_at IS NULL;
            CREATE INDEX sessions_by_agent ON sessions(agent_id, started_at);

            CREATE TABLE memories (
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                id text COLLATE "C" PRIMARY KEY,
                agent_id text COLLATE "C" NOT NULL,
                session_id text COLLATE "C",
                content text COLLATE "C" NOT NULL,
                content_search tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
                memory_type text COLLATE "C" NOT NULL
                    CHECK (memory_type IN ('episodic', 'semantic', 'procedural', 'working')),
                importance double precision NOT NULL CHECK (importance BETWEEN 0 AND 1),
                base_importance double precision NOT NULL CHECK (base_importance BETWEEN 0 AND 1),
                decay_ref_at bigint NOT NULL,
                tags text COLLATE "C" NOT NULL DEFAULT '[]',
                metadata text COLLATE "C" NOT NULL DEFAULT '{}',
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                last_accessed_at bigint,
                access_count bigint NOT NULL DEFAULT 0,
                expires_at bigint,
                archived_at bigint,
                archived_reason text COLLATE "C" CHECK (archived_reason IN ('consolidated', 'decayed')),
                superseded_by text COLLATE "C",
                CHECK ((archived_at IS NULL) = (archived_reason IS NULL))
            );
            CREATE INDEX memories_by_expiry ON memories(expires_at, seq) WHERE expires_at IS NOT NULL;
            CREATE INDEX memories_archived_by_decay_ref ON memories(decay_ref_at, seq) WHERE archived_at IS NOT NULL;
            CREATE INDEX memories_archived_by_time ON memories(archived_at, seq) WHERE archived_at IS NOT NULL;
            CREATE INDEX memories_live_by_type ON memories(memory_type, decay_ref_at) WHERE archived_at IS NULL;
            CREATE INDEX memories_by_session ON memories(session_id) WHERE session_id IS NOT NULL;
            CREATE INDEX memories_by_agent ON memories(agent_id, created_at);
            CREATE INDEX memories_search ON memories USING gin (content_search);

            CREATE TABLE consolidation_sources (
                source_memory_id text COLLATE "C" PRIMARY KEY,
                consolidation_id text COLLATE "C" NOT NULL,
                summary_id text COLLATE "C",
                source_session_id text COLLATE "C",
                fate text COLLATE "C" NOT NULL CHECK (fate IN
                    ('kept', 'merged', 'duplicate_of', 'superseded_by', 'below_floor', 'over_cap')),
                fate_ref text COLLATE "C"
            );
            CREATE INDEX consolidation_sources_by_consolidation ON consolidation_sources(consolidation_id);
            CREATE INDEX consolidation_sources_by_summary ON consolidation_sources(summary_id)
                WHERE summary_id IS NOT NULL;

            CREATE TABLE job_runs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                job text COLLATE "C" NOT NULL,
                trigger text COLLATE "C" NOT NULL CHECK (trigger IN ('schedule', 'once', 'webhook', 'admin')),
                holder text COLLATE "C" NOT NULL,
                started_at bigint NOT NULL,
                finished_at bigint,
                duration_ms double precision,
                status text COLLATE "C" NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
                examined bigint NOT NULL DEFAULT 0,
                changed bigint NOT NULL DEFAULT 0,
                complete boolean NOT NULL DEFAULT true,
                dry_run boolean NOT NULL DEFAULT false,
                error text COLLATE "C",
                llm_calls bigint,
                llm_prompt_tokens bigint,
                llm_completion_tokens bigint,
                llm_fallbacks text COLLATE "C"
            );
            CREATE INDEX job_runs_by_job ON job_runs(job, id);
            CREATE INDEX job_runs_by_start ON job_runs(started_at);

            CREATE TABLE leases (
                job text COLLATE "C" PRIMARY KEY,
                holder text COLLATE "C" NOT NULL,
                acquired_at bigint NOT NULL,
                expires_at bigint NOT NULL
            );

            CREATE TABLE webhook_receipts (
                webhook_id text COLLATE "C" PRIMARY KEY,
                received_at bigint NOT NULL
            );
            CREATE INDEX webhook_receipts_by_time ON webhook_receipts(received_at);

            CREATE TABLE memory_vectors (
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                memory_id text COLLATE "C" PRIMARY KEY,
                agent_id text COLLATE "C" NOT NULL,
                model text COLLATE "C" NOT NULL,
                dimensions integer NOT NULL CHECK (dimensions > 0),
                vector bytea NOT NULL CHECK (octet_length(vector) = 4 * dimensions),
                embedded_at bigint NOT NULL
            );
            CREATE INDEX memory_vectors_by_agent ON memory_vectors(agent_id, model, seq);
            CREATE INDEX memory_vectors_by_model ON memory_vectors(model);
            CREATE TABLE embed_queue (
                memory_id text COLLATE "C" PRIMARY KEY,
                agent_id text COLLATE "C" NOT NULL
            );
            CREATE INDEX embed_queue_by_agent ON embed_queue(agent_id);
            CREATE TABLE vector_generations (
                agent_id text COLLATE "C" PRIMARY KEY,
                inserted bigint NOT NULL DEFAULT 0,
                deleted bigint NOT NULL DEFAULT 0
            );

            -- The embed queue and the vector generations are kept by triggers, as in SQLite, so
            -- that every writer (any node, any one-shot run) enqueues alike.
            CREATE FUNCTION memories_embed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO embed_queue(memory_id, agent_id) VALUES (NEW.id, NEW.agent_id) ON CONFLICT DO NOTHING;
                    RETURN NEW;
                ELSIF TG_OP = 'UPDATE' THEN
                    IF OLD.content IS DISTINCT FROM NEW.content OR OLD.agent_id IS DISTINCT FROM NEW.agent_id THEN
                        DELETE FROM memory_vectors WHERE memory_id = OLD.id;
                        DELETE FROM embed_queue WHERE memory_id = OLD.id;
                        INSERT INTO embed_queue(memory_id, agent_id) VALUES (NEW.id, NEW.agent_id);
                    END IF;
                    RETURN NEW;
                ELSE
                    DELETE FROM memory_vectors WHERE memory_id = OLD.id;
                    DELETE FROM embed_queue WHERE memory_id = OLD.id;
                    RETURN OLD;
                END IF;
            END $$;
            CREATE TRIGGER memories_embed AFTER INSERT OR UPDATE OF content, agent_id OR DELETE ON memories
                FOR EACH ROW EXECUTE FUNCTION memories_embed();

            CREATE FUNCTION memory_vectors_generation() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO vector_generations(agent_id, inserted) VALUES (NEW.agent_id, 1)
                        ON CONFLICT (agent_id) DO UPDATE SET inserted = vector_generations.inserted + 1;
                    RETURN NEW;
                ELSE
                    INSERT INTO vector_generations(agent_id, deleted) VALUES (OLD.agent_id, 1)
                        ON CONFLICT (agent_id) DO UPDATE SET deleted = vector_generations.deleted + 1;
                    RETURN OLD;
                END IF;
            END $$;
            CREATE TRIGGER memory_vectors_generation AFTER INSERT OR DELETE ON memory_vectors
                FOR EACH ROW EXECUTE FUNCTION memory_vectors_generation();

            CREATE TABLE llm_usage (
                day bigint PRIMARY KEY,
                calls bigint NOT NULL DEFAULT 0,
                prompt_tokens bigint NOT NULL DEFAULT 0,
                completion_tokens bigint NOT NULL DEFAULT 0
            );
            CREATE TABLE llm_answers (
                prompt_key text COLLATE "C" PRIMARY KEY,
                content text COLLATE "C" NOT NULL,
                created_at bigint NOT NULL
            );
            CREATE INDEX llm_answers_by_time ON llm_answers(created_at);
            """),
        // Recall's per-agent full-text index in memory (`LexicalCache`), as "v6-memory-generations"
        // on SQLite.
        ("v2-memory-generations", """
            CREATE TABLE memory_generations (
                agent_id text COLLATE "C" PRIMARY KEY,
                inserted bigint NOT NULL DEFAULT 0,
                deleted bigint NOT NULL DEFAULT 0
            );
            INSERT INTO memory_generations(agent_id, inserted) SELECT agent_id, count(*) FROM memories GROUP BY agent_id;
            CREATE INDEX memories_by_agent_seq ON memories(agent_id, seq);
            CREATE FUNCTION memories_generation() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO memory_generations(agent_id, inserted) VALUES (NEW.agent_id, 1)
                        ON CONFLICT (agent_id) DO UPDATE SET inserted = memory_generations.inserted + 1;
                    RETURN NEW;
                ELSIF TG_OP = 'UPDATE' THEN
                    IF OLD.content IS DISTINCT FROM NEW.content OR OLD.agent_id IS DISTINCT FROM NEW.agent_id THEN
                        INSERT INTO memory_generations(agent_id, deleted) VALUES (OLD.agent_id, 1)
                            ON CONFLICT (agent_id) DO UPDATE SET deleted = memory_generations.deleted + 1;
                        INSERT INTO memory_generations(agent_id, deleted) VALUES (NEW.agent_id, 1)
                            ON CONFLICT (agent_id) DO UPDATE SET deleted = memory_generations.deleted + 1;
                    END IF;
                    RETURN NEW;
                ELSE
                    INSERT INTO memory_generations(agent_id, deleted) VALUES (OLD.agent_id, 1)
                        ON CONFLICT (agent_id) DO UPDATE SET deleted = memory_generations.deleted + 1;
                    RETURN OLD;
                END IF;
            END $$;
            CREATE TRIGGER memories_generation AFTER INSERT OR UPDATE OF content, agent_id OR DELETE ON memories
                FOR EACH ROW EXECUTE FUNCTION memories_generation();
            """),
    ]

    /// A key of `pg_advisory_xact_lock` that serializes migrations: two nodes started at once
    /// must not both create the tables.
    static let migrationLock: Int64 = 0x6d656d6b_65657031

    /// Runs the migrations not yet applied, each in its own transaction with its record.
    static func migrate(_ engine: PostgresEngine) async throws {
        try await engine.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: engine.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS memkeep_migrations (
                    identifier text COLLATE "C" PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: engine.logger)
            let applied = Set(try await appliedMigrations(connection, logger: engine.logger))
            for migration in migrations where !applied.contains(migration.id) {
                for statement in statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: engine.logger)
                }
                try await connection.query(
                    "INSERT INTO memkeep_migrations (identifier) VALUES (\(migration.id))", logger: engine.logger)
            }
        }
    }

    /// A migration's statements, one at a time: the extended query protocol takes one per
    /// query. Splits at `;` ending a line, except inside a `$$`-quoted function body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingPrefix(while: \.isWhitespace).hasPrefix("--") { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Whether every migration this build knows has been applied.
    static func isMigrated(_ engine: PostgresEngine) async throws -> Bool {
        try await engine.autocommit { connection in
            let exists = try await connection.query(
                "SELECT to_regclass('memkeep_migrations') IS NOT NULL", logger: engine.logger
            ).scalar(Bool.self) ?? false
            guard exists else { return false }
            let applied = Set(try await appliedMigrations(connection, logger: engine.logger))
            return migrations.allSatisfy { applied.contains($0.id) }
        }
    }

    private static func appliedMigrations(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var identifiers: [String] = []
        for try await identifier in try await connection.query(
            "SELECT identifier FROM memkeep_migrations", logger: logger
        ).decode(String.self) {
            identifiers.append(identifier)
        }
        return identifiers
    }
}
