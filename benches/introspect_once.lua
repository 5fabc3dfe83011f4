-- wrk: POST /api/v1/introspect with every token of a file about once: each
-- thread walks its own stripe of the lines (thread i of n takes lines i,
-- i + n, ...), in order, and starts again at the end.
-- Arguments: the token file, the Authorization header value, wrk's threads.
local requests = {}
local position = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("stripe", threads)
end

function init(args)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = args[2],
  }
  local total = tonumber(args[3])
  local index = 0
  for line in io.lines(args[1]) do
    if index % total == stripe - 1 then
      requests[#requests + 1] = wrk.format("POST", "/api/v1/introspect", headers, "token=" .. line)
    end
    index = index + 1
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end
