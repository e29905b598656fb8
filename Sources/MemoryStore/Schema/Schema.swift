import GRDB

/// Versioned migrations. A migration, once shipped, is never edited: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    last_activity_at INTEGER NOT NULL,
                    idle_timeout_s INTEGER CHECK (idle_timeout_s IS NULL OR idle_timeout_s >= 0),
                    idle_deadline_at INTEGER,
                    ended_at INTEGER,
                    ended_reason TEXT CHECK (ended_reason IN ('client', 'idle', 'webhook')),
                    idle_since INTEGER,
                    summary TEXT,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    consolidated_at INTEGER,
                    consolidated_into TEXT,
                    CHECK ((ended_at IS NULL) = (ended_reason IS NULL)),
                    CHECK (ended_at IS NULL OR idle_deadline_at IS NULL)
                );
                -- Open sessions by deadline: the orphan sweep and "next deadline" are range scans.
                CREATE INDEX sessions_by_idle_deadline ON sessions(idle_deadline_at)
                    WHERE idle_deadline_at IS NOT NULL;
                -- Consolidation candidates per agent, oldest first.
                CREATE INDEX sessions_unconsolidated ON sessions(agent_id, started_at)
                    WHERE ended_at IS NOT NULL AND consolidated_at IS NULL;
                CREATE INDEX sessions_by_agent ON sessions(agent_id, started_at);

                CREATE TABLE memories (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL,
                    session_id TEXT,
                    content TEXT NOT NULL,
                    memory_type TEXT NOT NULL
                        CHECK (memory_type IN ('episodic', 'semantic', 'procedural', 'working')),
                    importance REAL NOT NULL CHECK (importance BETWEEN 0 AND 1),
                    base_importance REAL NOT NULL CHECK (base_importance BETWEEN 0 AND 1),
                    decay_ref_at INTEGER NOT NULL,
                    tags TEXT NOT NULL DEFAULT '[]',
                    metadata TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    last_accessed_at INTEGER,
                    access_count INTEGER NOT NULL DEFAULT 0,
                    expires_at INTEGER,
                    archived_at INTEGER,
                    archived_reason TEXT CHECK (archived_reason IN ('consolidated', 'decayed')),
                    superseded_by TEXT,
                    CHECK ((archived_at IS NULL) = (archived_reason IS NULL))
                );
                CREATE INDEX memories_by_expiry ON memories(expires_at) WHERE expires_at IS NOT NULL;
                CREATE INDEX memories_archived_by_decay_ref ON memories(decay_ref_at)
                    WHERE archived_at IS NOT NULL;
                CREATE INDEX memories_archived_by_time ON memories(archived_at)
                    WHERE archived_at IS NOT NULL;
                CREATE INDEX memories_live_by_type ON memories(memory_type, decay_ref_at)
                    WHERE archived_at IS NULL;
                CREATE INDEX memories_by_session ON memories(session_id) WHERE session_id IS NOT NULL;
                CREATE INDEX memories_by_agent ON memories(agent_id, created_at);

                CREATE VIRTUAL TABLE memories_fts USING fts5(
                    content, content='memories', content_rowid='rowid', tokenize='unicode61');
                CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
                    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
                END;
                CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
                    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
                END;
                CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
                    INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
                    INSERT INTO memories_fts(rowid, content) VALUES (new.rowid, new.content);
                END;

                CREATE TABLE summary_sources (
                    summary_id TEXT NOT NULL,
                    source_memory_id TEXT NOT NULL,
                    source_session_id TEXT,
                    PRIMARY KEY (summary_id, source_memory_id)
                ) WITHOUT ROWID;
                CREATE INDEX summary_sources_by_source ON summary_sources(source_memory_id);

                CREATE TABLE job_runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job TEXT NOT NULL,
                    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'once', 'webhook', 'admin')),
                    holder TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    duration_ms REAL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
                    examined INTEGER NOT NULL DEFAULT 0,
                    changed INTEGER NOT NULL DEFAULT 0,
                    complete INTEGER NOT NULL DEFAULT 1,
                    dry_run INTEGER NOT NULL DEFAULT 0,
                    error TEXT
                );
                CREATE INDEX job_runs_by_job ON job_runs(job, id);
                CREATE INDEX job_runs_by_start ON job_runs(started_at);

                CREATE TABLE leases (
                    job TEXT PRIMARY KEY NOT NULL,
                    holder TEXT NOT NULL,
                    acquired_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE webhook_receipts (
                    webhook_id TEXT PRIMARY KEY NOT NULL,
                    received_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX webhook_receipts_by_time ON webhook_receipts(received_at);
                """)
        }
        // Recall searches one agent's memories. The agent id goes into the full-text index as
        // one token ('a' + hex of the id): a match is narrowed to the agent inside FTS5 by one
        // doclist instead of ranking every agent's matches. Contentless, because that token is
        // not a column of `memories`; the triggers hand FTS5 the values it indexed.
        migrator.registerMigration("v2-fts-agent") { db in
            try db.execute(sql: """
                DROP TRIGGER memories_fts_insert;
                DROP TRIGGER memories_fts_delete;
                DROP TRIGGER memories_fts_update;
                DROP TABLE memories_fts;
                CREATE VIRTUAL TABLE memories_fts USING fts5(content, agent, content='', tokenize='unicode61');
                INSERT INTO memories_fts(rowid, content, agent) SELECT rowid, content, 'a' || hex(agent_id) FROM memories;
                CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
                    INSERT INTO memories_fts(rowid, content, agent) VALUES (new.rowid, new.content, 'a' || hex(new.agent_id));
                END;
                CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
                    INSERT INTO memories_fts(memories_fts, rowid, content, agent)
                        VALUES ('delete', old.rowid, old.content, 'a' || hex(old.agent_id));
                END;
                CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, agent_id ON memories BEGIN
                    INSERT INTO memories_fts(memories_fts, rowid, content, agent)
                        VALUES ('delete', old.rowid, old.content, 'a' || hex(old.agent_id));
                    INSERT INTO memories_fts(rowid, content, agent) VALUES (new.rowid, new.content, 'a' || hex(new.agent_id));
                END;
                """)
        }
        // Semantic recall: one vector per memory, tagged with the model that made it. The
        // queue holds what needs one (new or changed content), filled by triggers so that every
        // writer (the daemon, one-shot runs, embedders of the library) enqueues alike; vectors of
        // another model are found by the model index. `vector_generations` counts each agent's
        // vector inserts and deletes, so a process's in-memory copy of an agent's vectors knows
        // by one primary-key read whether it is current.
        migrator.registerMigration("v3-vectors") { db in
            try db.execute(sql: """
                CREATE TABLE memory_vectors (
                    memory_id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL,
                    model TEXT NOT NULL,
                    dimensions INTEGER NOT NULL CHECK (dimensions > 0),
                    vector BLOB NOT NULL CHECK (length(vector) = 4 * dimensions),
                    embedded_at INTEGER NOT NULL
                );
                CREATE INDEX memory_vectors_by_agent ON memory_vectors(agent_id, model);
                CREATE INDEX memory_vectors_by_model ON memory_vectors(model);
                CREATE TABLE embed_queue (
                    memory_id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL
                ) WITHOUT ROWID;
                -- Recall takes an agent's memories still waiting for a vector.
                CREATE INDEX embed_queue_by_agent ON embed_queue(agent_id);
                CREATE TABLE vector_generations (
                    agent_id TEXT PRIMARY KEY NOT NULL,
                    inserted INTEGER NOT NULL DEFAULT 0,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;

                CREATE TRIGGER memories_embed_insert AFTER INSERT ON memories BEGIN
                    INSERT OR IGNORE INTO embed_queue(memory_id, agent_id) VALUES (new.id, new.agent_id);
                END;
                CREATE TRIGGER memories_embed_update AFTER UPDATE OF content, agent_id ON memories
                    WHEN old.content IS NOT new.content OR old.agent_id IS NOT new.agent_id BEGIN
                    DELETE FROM memory_vectors WHERE memory_id = old.id;
                    DELETE FROM embed_queue WHERE memory_id = old.id;
                    INSERT INTO embed_queue(memory_id, agent_id) VALUES (new.id, new.agent_id);
                END;
                CREATE TRIGGER memories_embed_delete AFTER DELETE ON memories BEGIN
                    DELETE FROM memory_vectors WHERE memory_id = old.id;
                    DELETE FROM embed_queue WHERE memory_id = old.id;
                END;
                CREATE TRIGGER memory_vectors_insert AFTER INSERT ON memory_vectors BEGIN
                    INSERT INTO vector_generations(agent_id, inserted) VALUES (new.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET inserted = inserted + 1;
                END;
                CREATE TRIGGER memory_vectors_delete AFTER DELETE ON memory_vectors BEGIN
                    INSERT INTO vector_generations(agent_id, deleted) VALUES (old.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET deleted = deleted + 1;
                END;

                INSERT INTO embed_queue(memory_id, agent_id) SELECT id, agent_id FROM memories;
                """)
        }
        // Topic summaries: one consolidation writes several summaries, and every source records
        // its fate, whether or not its text went into a summary. A source belongs to one
        // consolidation at a time (restore deletes its row), so the source is the key; summary_id
        // is NULL for sources whose text is in no summary (below the floor, superseded). Rows of
        // single-summary consolidations take the summary id as their consolidation id, which is
        // what their sessions' consolidated_into already holds.
        migrator.registerMigration("v4-consolidation-fates") { db in
            try db.execute(sql: """
                CREATE TABLE consolidation_sources (
                    source_memory_id TEXT PRIMARY KEY NOT NULL,
                    consolidation_id TEXT NOT NULL,
                    summary_id TEXT,
                    source_session_id TEXT,
                    fate TEXT NOT NULL CHECK (fate IN
                        ('kept', 'merged', 'duplicate_of', 'superseded_by', 'below_floor', 'over_cap')),
                    fate_ref TEXT
                ) WITHOUT ROWID;
                CREATE INDEX consolidation_sources_by_consolidation ON consolidation_sources(consolidation_id);
                CREATE INDEX consolidation_sources_by_summary ON consolidation_sources(summary_id)
                    WHERE summary_id IS NOT NULL;
                INSERT OR IGNORE INTO consolidation_sources
                    (source_memory_id, consolidation_id, summary_id, source_session_id, fate)
                    SELECT source_memory_id, summary_id, summary_id, source_session_id, 'kept' FROM summary_sources;
                DROP TABLE summary_sources;
                """)
        }
        // The LLM summarizer's spend: per UTC day for `llm.max_tokens_per_day` (counted as each
        // call returns, so a killed run's calls still count), and per run in `job_runs`. Answers
        // are kept a day by their prompt: a batch paid for but not written (the run was killed or
        // stopped) is not paid for again when the next run words the same prompt.
        migrator.registerMigration("v5-llm-usage") { db in
            try db.execute(sql: """
                CREATE TABLE llm_usage (
                    day INTEGER PRIMARY KEY NOT NULL,
                    calls INTEGER NOT NULL DEFAULT 0,
                    prompt_tokens INTEGER NOT NULL DEFAULT 0,
                    completion_tokens INTEGER NOT NULL DEFAULT 0
                );
                ALTER TABLE job_runs ADD COLUMN llm_calls INTEGER;
                ALTER TABLE job_runs ADD COLUMN llm_prompt_tokens INTEGER;
                ALTER TABLE job_runs ADD COLUMN llm_completion_tokens INTEGER;
                ALTER TABLE job_runs ADD COLUMN llm_fallbacks TEXT;
                CREATE TABLE llm_answers (
                    prompt_key TEXT PRIMARY KEY NOT NULL,
                    content TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX llm_answers_by_time ON llm_answers(created_at);
                """)
        }
        // Recall's full-text index lives in memory per agent (`LexicalCache`): each agent's
        // memory inserts and deletes (a changed content counts as a delete) are counted, so a
        // process's copy knows by one primary-key read whether it is current.
        migrator.registerMigration("v6-memory-generations") { db in
            try db.execute(sql: """
                CREATE TABLE memory_generations (
                    agent_id TEXT PRIMARY KEY NOT NULL,
                    inserted INTEGER NOT NULL DEFAULT 0,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                INSERT INTO memory_generations(agent_id, inserted) SELECT agent_id, count(*) FROM memories GROUP BY agent_id;
                CREATE TRIGGER memories_generation_insert AFTER INSERT ON memories BEGIN
                    INSERT INTO memory_generations(agent_id, inserted) VALUES (new.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET inserted = inserted + 1;
                END;
                CREATE TRIGGER memories_generation_delete AFTER DELETE ON memories BEGIN
                    INSERT INTO memory_generations(agent_id, deleted) VALUES (old.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET deleted = deleted + 1;
                END;
                CREATE TRIGGER memories_generation_update AFTER UPDATE OF content, agent_id ON memories
                    WHEN old.content IS NOT new.content OR old.agent_id IS NOT new.agent_id BEGIN
                    INSERT INTO memory_generations(agent_id, deleted) VALUES (old.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET deleted = deleted + 1;
                    INSERT INTO memory_generations(agent_id, deleted) VALUES (new.agent_id, 1)
                        ON CONFLICT(agent_id) DO UPDATE SET deleted = deleted + 1;
                END;
                """)
        }
        return migrator
    }
}
