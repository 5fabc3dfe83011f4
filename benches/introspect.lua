-- wrk: POST /api/v1/introspect with a random token from a pool.
-- Arguments: the token file (one per line) and the Authorization header value.
-- Requests are formatted once, in init, so wrk spends its CPU on sending
-- rather than on Lua: it shares the machine with the server it measures.
local requests = {}

function init(args)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = args[2],
  }
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", "/api/v1/introspect", headers, "token=" .. line)
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return requests[math.random(#requests)]
end
