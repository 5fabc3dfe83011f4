-- wrk: GET /healthz through the same Lua request() path as introspect.lua,
-- so the load generator (which shares the machine) spends the same per
-- request on both sides of the comparison.
local request_text

function init(args)
  request_text = wrk.format("GET", "/healthz")
end

function request()
  return request_text
end
