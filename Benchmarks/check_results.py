"""The benchmark smoke check of .ci/run: the run completed and every figure is present and a
finite number. It never judges a time: speed is read from RESULTS.md, not asserted."""
import json
import math
import sys

report = json.load(open(sys.argv[1]))
missing = []


def need(obj, path, keys):
    for key in keys:
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            missing.append(f"{path}.{key}")


need(report, "report", ["machine", "store", "jobs", "http", "idle", "total_seconds"])
jobs = {job.get("job"): job for job in report.get("jobs", [])}
for name in ["purge", "decay", "orphans", "consolidate"]:
    if name not in jobs:
        missing.append(f"jobs.{name}")
        continue
    need(jobs[name], name, ["rows", "memkeepd_seconds", "memkeepd_rows_per_second", "floor_seconds",
                            "floor_rows_per_second", "handwritten_rows_per_second", "ratio_to_floor"])
for name in ["purge", "decay"]:
    for key in ["writer_alone", "writer_during_memkeepd", "writer_during_floor"]:
        need(jobs.get(name, {}).get(key) or {}, f"{name}.{key}", ["count", "p50_ms", "p99_ms", "max_ms"])
http = report.get("http", {})
need(http, "http", ["touch_requests_per_second", "recall_requests_per_second", "store_requests_per_second"])
need(http, "http", ["new_query_recall_requests_per_second", "paced_store_rate", "embed_backlog_after_paced_stores",
                    "embed_drain_seconds"])
for key in ["touch_latency", "recall_latency", "store_latency", "new_query_recall_latency", "paced_store_latency"]:
    need(http.get(key) or {}, f"http.{key}", ["p50_ms", "p99_ms"])
need(report.get("idle", {}), "idle", ["ready_ms", "resident_mb_at_start", "resident_mb_after_traffic",
                                      "wakeups_per_minute", "store_accesses_per_minute"])
need(report, "report", ["embeddings", "resident_mb_without_model"])
need(report.get("embeddings", {}), "embeddings", ["batched_texts_per_second", "batched_gflops", "single_text_gflops",
                                                  "backfill_memories", "backfill_per_second"])
need(report.get("embeddings", {}).get("single_text") or {}, "embeddings.single_text", ["p50_ms", "p99_ms"])
scale = report.get("scale") or {}
points = scale.get("points") or []
if len(points) < 2:
    missing.append("scale.points (at least two store sizes)")
for point in points:
    where = f"scale[{point.get('memories')}]"
    need(point, where, ["memories", "store_bytes", "touch_requests_per_second"])
    scale_jobs = {job.get("job"): job for job in point.get("jobs", [])}
    for name in ["purge", "decay", "orphans"]:
        need(scale_jobs.get(name, {}), f"{where}.{name}", ["rows", "memkeepd_seconds", "floor_seconds"])
    for name in ["purge", "decay"]:
        need(scale_jobs.get(name, {}).get("writer_during_memkeepd") or {}, f"{where}.{name}.writer", ["p99_ms", "max_ms"])
    if len(point.get("recall") or []) < 3:
        missing.append(f"{where}.recall (three agent sizes)")
    for recall in point.get("recall") or []:
        need(recall.get("latency") or {}, f"{where}.recall", ["p50_ms", "p99_ms"])
if missing:
    print("missing figures: " + ", ".join(missing))
    sys.exit(1)
print(f"benchmark smoke: every figure present ({len(jobs)} jobs, http, idle, scale at {len(points)} sizes)")
