"""Hand-written orphan sweep: find the sessions past their deadline, end them one by one."""
from common import each_row, main


def work(db, now, deadline):
    rows = db.execute(
        "SELECT id, last_activity_at FROM sessions WHERE ended_at IS NULL AND idle_deadline_at <= ?", (now,)).fetchall()

    def end(row):
        session_id, last = row
        db.execute(
            "UPDATE sessions SET ended_at = ?, ended_reason = 'idle', idle_since = ?, idle_deadline_at = NULL "
            "WHERE id = ?", (now, last, session_id))
        return True

    return each_row(db, rows, end, deadline)


main(work)
