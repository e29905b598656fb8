"""Hand-written TTL purge: select the ids, delete one by one, commit every 100."""
from common import each_row, main


def work(db, now, deadline):
    ids = [r[0] for r in db.execute(
        "SELECT id FROM memories WHERE (expires_at IS NOT NULL AND expires_at <= ?) "
        "OR (archived_at IS NOT NULL AND archived_at <= ?)", (now, now - 90 * 86400000))]

    def delete(memory_id):
        db.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
        return True

    return each_row(db, ids, delete, deadline)


main(work)
