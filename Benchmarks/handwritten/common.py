"""Shared bits of the hand-written alternatives: what people write for cron with the standard
sqlite3 module, looping over rows and committing every BATCH rows."""
import json
import sqlite3
import sys
import time

BATCH = 100


def open_store(path):
    connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def main(work):
    """argv: DB NOW_MS TIME_LIMIT_S. Prints {"rows", "seconds", "complete"}."""
    path, now, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    connection = open_store(path)
    started = time.monotonic()
    deadline = started + limit
    rows, complete = work(connection, now, deadline)
    print(json.dumps({"rows": rows, "seconds": time.monotonic() - started, "complete": complete}))


def each_row(db, rows, apply, deadline):
    """Calls apply(row) for each row, committing every BATCH changes; stops at the first
    commit past the deadline. apply returns whether it changed the row.
    Returns (changed, complete)."""
    done = 0
    db.execute("BEGIN")
    for row in rows:
        if not apply(row):
            continue
        done += 1
        if done % BATCH == 0:
            db.execute("COMMIT")
            if time.monotonic() > deadline:
                return done, False
            db.execute("BEGIN")
    db.execute("COMMIT")
    return done, True
