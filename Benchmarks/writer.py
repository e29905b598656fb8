"""The foreground writer of the interference measurement: inserts a memory every 1/RATE
seconds into the store until STOP_FILE exists, and prints its insert latencies (ms)."""
import json
import os
import sqlite3
import sys
import time

path, rate, stop_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
latencies = []
index = 0
next_at = time.monotonic()
while not os.path.exists(stop_file):
    now_ms = int(time.time() * 1000)
    started = time.monotonic()
    db.execute(
        "INSERT INTO memories (id, agent_id, content, memory_type, importance, base_importance, decay_ref_at, "
        "tags, metadata, created_at, updated_at) VALUES (?, 'bench-writer', ?, 'episodic', 0.5, 0.5, ?, '[]', '{}', ?, ?)",
        (f"w{os.getpid()}-{index}", f"foreground write {index} while maintenance runs", now_ms, now_ms, now_ms))
    latencies.append((time.monotonic() - started) * 1000)
    index += 1
    next_at += 1 / rate
    time.sleep(max(0.0, next_at - time.monotonic()))
latencies.sort()


def pick(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0


print(json.dumps({"count": len(latencies), "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                  "max_ms": latencies[-1] if latencies else 0.0}))
