"""Hand-written decay: read every archived memory, compute in Python, update one by one."""
import time

from common import BATCH, main

HALF_LIFE = 30 * 86400000


def work(db, now, deadline):
    rows = db.execute(
        "SELECT id, base_importance, decay_ref_at, tags FROM memories WHERE archived_at IS NOT NULL").fetchall()
    done = 0
    db.execute("BEGIN")
    for memory_id, base, ref, tags in rows:
        if '"pinned"' in tags:
            continue
        value = max(0.0, base * 0.5 ** ((now - ref) / HALF_LIFE))
        db.execute("UPDATE memories SET importance = ? WHERE id = ?", (value, memory_id))
        done += 1
        if done % BATCH == 0:
            db.execute("COMMIT")
            if time.monotonic() > deadline:
                return done, False
            db.execute("BEGIN")
    db.execute("COMMIT")
    return done, True


main(work)
