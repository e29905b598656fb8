"""The foreground writer of the interference measurement: inserts a memory every 1/RATE
seconds into the store until STOP_FILE exists, and prints its insert latencies (ms).

With RETRY_MS, a locked store is retried every RETRY_MS instead of through SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25… ms between attempts: the latencies then show
how long the store was really held, not when the handler happened to look."""
import json
import os
import sqlite3
import sys
import time

path, rate, stop_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
retry = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else None
db = sqlite3.connect(path, timeout=0.0 if retry else 30.0, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
latencies = []
index = 0
next_at = time.monotonic()
while not os.path.exists(stop_file):
    now_ms = int(time.time() * 1000)
    started = time.monotonic()
    while True:
        try:
            db.execute(
                "INSERT INTO memories (id, agent_id, content, memory_type, importance, base_importance, decay_ref_at, "
                "tags, metadata, created_at, updated_at) VALUES (?, 'bench-writer', ?, 'episodic', 0.5, 0.5, ?, '[]', '{}', ?, ?)",
                (f"w{os.getpid()}-{index}", f"foreground write {index} while maintenance runs", now_ms, now_ms, now_ms))
            break
        except sqlite3.OperationalError as error:
            if retry is None or "locked" not in str(error):
                raise
            time.sleep(retry)
    latencies.append((time.monotonic() - started) * 1000)
    index += 1
    next_at += 1 / rate
    time.sleep(max(0.0, next_at - time.monotonic()))
latencies.sort()


def pick(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0


print(json.dumps({"count": len(latencies), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                  "max_ms": latencies[-1] if latencies else 0.0}))
