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
