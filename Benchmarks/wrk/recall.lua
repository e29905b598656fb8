-- Recalls for the agent in AGENT with a different question each request, so every query is
-- embedded (no query-vector cache hits).
local agent = os.getenv("AGENT") or "bench-heavy-0"
local words = {"postgresql", "billing", "migration", "deploy", "customer", "invoice", "latency", "schema",
  "backup", "upgrade", "region", "cache", "queue", "timeout", "refund", "dashboard"}
local n = 0
request = function()
  n = n + 1
  local a = words[(n % #words) + 1]
  local b = words[((n * 7) % #words) + 1]
  local query = "what happened with the " .. a .. " and " .. b .. " issue " .. n
  return wrk.format("GET", "/v1/memory/recall?agent_id=" .. agent .. "&top_k=8&query=" .. query:gsub(" ", "%%20"))
end
