"""Hand-written consolidation: per agent, its old ended sessions in groups of 30; concatenate
the facts, insert a summary, archive the sources one by one; commit per group."""
import json
import time

from common import main

MIN_AGE = 30 * 86400000


def work(db, now, deadline):
    agents = [r[0] for r in db.execute(
        "SELECT DISTINCT agent_id FROM sessions WHERE ended_at IS NOT NULL AND consolidated_at IS NULL "
        "AND ended_at <= ?", (now - MIN_AGE,))]
    done = 0
    for agent in agents:
        sessions = [r[0] for r in db.execute(
            "SELECT id FROM sessions WHERE agent_id = ? AND ended_at IS NOT NULL AND consolidated_at IS NULL "
            "AND ended_at <= ? ORDER BY started_at", (agent, now - MIN_AGE))]
        for start in range(0, len(sessions), 30):
            group = sessions[start:start + 30]
            db.execute("BEGIN")
            facts = []
            for session_id in group:
                facts += db.execute(
                    "SELECT id, content FROM memories WHERE session_id = ? AND archived_at IS NULL",
                    (session_id,)).fetchall()
            summary_id = f"sum-{agent}-{start}"
            db.execute(
                "INSERT INTO memories (id, agent_id, content, memory_type, importance, base_importance, "
                "decay_ref_at, tags, metadata, created_at, updated_at) VALUES (?, ?, ?, 'semantic', 0.6, 0.6, ?, "
                "'[\"historical-summary\"]', ?, ?, ?)",
                (summary_id, agent, " · ".join(c for _, c in facts)[:4000], now,
                 json.dumps({"sessions": group}), now, now))
            for memory_id, _ in facts:
                db.execute("UPDATE memories SET archived_at = ?, archived_reason = 'consolidated' WHERE id = ?",
                           (now, memory_id))
            for session_id in group:
                db.execute("UPDATE sessions SET consolidated_at = ?, consolidated_into = ? WHERE id = ?",
                           (now, summary_id, session_id))
            db.execute("COMMIT")
            done += len(group)
            if time.monotonic() > deadline:
                return done, False
    return done, True


main(work)
