-- Heartbeats spread over the sessions listed in the SESSIONS environment variable.
local ids = {}
for id in string.gmatch(os.getenv("SESSIONS") or "", "[^,]+") do ids[#ids + 1] = id end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/sessions/" .. ids[(n % #ids) + 1] .. "/touch")
end
