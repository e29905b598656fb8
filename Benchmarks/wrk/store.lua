-- Stores a memory per request for the agent in the AGENT environment variable.
local agent = os.getenv("AGENT") or "bench-store"
local n = 0
request = function()
  n = n + 1
  local body = '{"agent_id":"' .. agent .. '","content":"benchmark fact number ' .. n ..
    ' about postgresql and aws","importance":0.6,"tags":["bench"]}'
  return wrk.format("POST", "/v1/memory/store", {["Content-Type"] = "application/json"}, body)
end
