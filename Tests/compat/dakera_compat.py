"""Code written against the official dakera SDK (0.14.1), run unchanged against memkeepd.

Usage: dakera_compat.py BASE_URL API_KEY
Prints one line per step; exits non-zero on the first mismatch.
"""
import sys
import time

from dakera import (
    BatchMemoryFilter,
    BatchRecallRequest,
    BatchStoreMemoryItem,
    BatchStoreMemoryRequest,
    DakeraClient,
    NotFoundError,
    ValidationError,
)

base, key = sys.argv[1], sys.argv[2]
agent = "support-customer-9182"


def step(name):
    print(f"ok: {name}", flush=True)


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


client = DakeraClient(base, api_key=key)
assert client.health()["status"] == "healthy"
step("health")

session = client.start_session(agent, metadata={"channel": "chat"}, idle_timeout_secs=600)
sid = session["id"]
assert session["agent_id"] == agent and session["ended_at"] is None
step("start_session")

facts = [
    ("customer runs FastAPI + PostgreSQL 14 on AWS ECS", 0.9, ["stack"]),
    ("auth is done, rate limiting is next", 0.8, ["progress", "tasks"]),
    ("constraint: AWS free tier only", 0.75, ["constraint"]),
]
ids = []
for content, importance, tags in facts:
    memory = client.store_memory(agent, content, importance=importance, tags=tags, session_id=sid)
    assert memory["content"] == content and memory["importance"] == importance and memory["tags"] == tags
    assert memory["session_state"] == "active"
    ids.append(memory["id"])
low = client.store_memory(agent, "customer said hello on the AWS stack call", importance=0.3, session_id=sid)
step("store_memory x4")

# Right after storing, before any embed job has run: one scale for embedded and waiting memories.
top = client.recall(agent, "rate limiting", top_k=1)
assert [m.id for m in top.memories] == [ids[1]], [m.content for m in top.memories]
step("recall right after storing: the fact that says it, first")

ended = client.end_session(sid)
assert ended["session"]["ended_reason"] == "client"
again = client.end_session(sid)
assert again["session"]["ended_at"] == ended["session"]["ended_at"]
step("end_session (idempotent)")

other = DakeraClient(base, api_key=key)
recalled = other.recall(agent, "what stack, constraints and next tasks does the customer have", top_k=8, min_importance=0.72)
got = [m.id for m in recalled.memories]
assert sorted(got) == sorted(ids), got
assert low["id"] not in got
assert all(m.importance >= 0.72 for m in recalled.memories)
assert recalled.memories[0].score is not None
step("recall min_importance=0.72 top_k=8 from a new client")

updated = other.update_memory(agent, ids[1], content="auth and rate limiting are done, billing is next", importance=0.85)
assert updated["content"].startswith("auth and rate limiting") and updated["importance"] == 0.85
assert other.get_memory(agent, ids[1])["content"] == updated["content"]
step("update_memory, get_memory")

other.forget(agent, ids[2])
try:
    other.get_memory(agent, ids[2])
    raise AssertionError("a forgotten memory is still there")
except NotFoundError:
    pass
step("forget")

sessions = other.list_sessions(agent_id=agent)
assert [s["id"] for s in sessions] == [sid] and sessions[0]["ended_reason"] == "client"
assert sessions[0]["memory_count"] == 3
memories = other.session_memories(sid)
assert sorted(m["id"] for m in memories) == sorted([ids[0], ids[1], low["id"]])
assert other.get_session(sid)["session"]["id"] == sid
step("list_sessions, session_memories, get_session")

transient = other.store_memory(agent, "attending the webinar this week", importance=0.9, ttl_seconds=1)
assert transient["expires_at"] is not None
time.sleep(2.1)
try:
    other.get_memory(agent, transient["id"])
    raise AssertionError("an expired memory is still readable")
except NotFoundError:
    pass
assert transient["id"] not in [m.id for m in other.recall(agent, "webinar", top_k=8).memories]
step("ttl_seconds: gone once expired")

# Touches 0.5 s apart for 4 s keep open a session idle after 3 s; a busy machine may delay one
# by up to 2.5 s.
heartbeat = other.start_session(agent, idle_timeout_secs=3)
for _ in range(8):
    time.sleep(0.5)
    touched = other.touch_session(heartbeat["id"])
    assert touched.session_state == "active", touched
step("touch_session keeps a session open past its idle timeout")

wait_until(lambda: other.get_session(heartbeat["id"])["session"]["ended_reason"] == "idle", 30, "the idle close")
closed = other.get_session(heartbeat["id"])["session"]
assert closed["idle_since"] is not None and closed["ended_at"] >= closed["idle_since"] + 3
assert other.touch_session(heartbeat["id"]).session_state == "ended"
step("stopped touching: ended with ended_reason idle, and touch does not re-open it")

batch = other.store_memories_batch(
    BatchStoreMemoryRequest(agent, [BatchStoreMemoryItem("prefers dark mode", importance=0.8, tags=["preferences"]),
                                    BatchStoreMemoryItem("based in Berlin", importance=0.7)]))
assert batch.stored_count == 2
found = other.batch_recall(BatchRecallRequest(agent, filter=BatchMemoryFilter(tags=["preferences"]), limit=10))
assert [m.content for m in found.memories] == ["prefers dark mode"] and found.filtered == 1
step("store_memories_batch, batch_recall")

agents = other.list_agents()
assert any(a["agent_id"] == agent for a in agents)
stats = other.agent_stats(agent)
assert stats["total_memories"] == 5 and stats["total_sessions"] == 2
assert len(other.agent_sessions(agent)) == 2
result = other.consolidate_agent(agent)
assert result["status"] == "ok" and result["sessions_consolidated"] == 2
step("list_agents, agent_stats, agent_sessions, consolidate_agent")

try:
    other.store_memory(agent, "x", importance=1.5)
    raise AssertionError("importance 1.5 was accepted")
except ValidationError as error:
    assert "importance" in str(error)
step("a bad value is a ValidationError naming the field")
print("all ok")
