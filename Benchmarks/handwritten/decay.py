"""Hand-written decay: read every archived memory, compute in Python, update one by one."""
from common import each_row, main

HALF_LIFE = 30 * 86400000


def work(db, now, deadline):
    rows = db.execute(
        "SELECT id, base_importance, decay_ref_at, tags FROM memories WHERE archived_at IS NOT NULL").fetchall()

    def decay(row):
        memory_id, base, ref, tags = row
        if '"pinned"' in tags:
            return False
        value = max(0.0, base * 0.5 ** (max(0, now - ref) / HALF_LIFE))
        db.execute("UPDATE memories SET importance = ? WHERE id = ?", (value, memory_id))
        return True

    return each_row(db, rows, decay, deadline)


main(work)
