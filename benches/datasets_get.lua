-- wrk: GET a company's datasets with a random API key from a pool.
-- Arguments: the token file (one per line) and the path.
-- Requests are formatted once, in init, so wrk spends its CPU on sending
-- rather than on Lua: it shares the machine with the services it measures.
local requests = {}

function init(args)
  for line in io.lines(args[1]) do
    local headers = { ["Authorization"] = "Bearer " .. line }
    requests[#requests + 1] = wrk.format("GET", args[2], headers)
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return requests[math.random(#requests)]
end
