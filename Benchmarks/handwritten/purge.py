"""Hand-written TTL purge: select the ids, delete one by one, commit every 100."""
from common import BATCH, main


def work(db, now, deadline):
    ids = [r[0] for r in db.execute(
        "SELECT id FROM memories WHERE (expires_at IS NOT NULL AND expires_at <= ?) "
        "OR (archived_at IS NOT NULL AND archived_at <= ?)", (now, now - 90 * 86400000))]
    done = 0
    import time
    db.execute("BEGIN")
    for memory_id in ids:
        db.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
        done += 1
        if done % BATCH == 0:
            db.execute("COMMIT")
            if time.monotonic() > deadline:
                return done, False
            db.execute("BEGIN")
    db.execute("COMMIT")
    return done, True


main(work)
