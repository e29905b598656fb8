"""Hand-written orphan sweep: find the sessions past their deadline, end them one by one."""
import time

from common import BATCH, main


def work(db, now, deadline):
    rows = db.execute(
        "SELECT id, last_activity_at FROM sessions WHERE ended_at IS NULL AND idle_deadline_at <= ?", (now,)).fetchall()
    done = 0
    db.execute("BEGIN")
    for session_id, last in rows:
        db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'idle', idle_since = ?, idle_deadline_at = NULL "
            "WHERE id = ?", (now, last, session_id))
        done += 1
        if done % BATCH == 0:
            db.execute("COMMIT")
            if time.monotonic() > deadline:
                return done, False
            db.execute("BEGIN")
    db.execute("COMMIT")
    return done, True


main(work)
