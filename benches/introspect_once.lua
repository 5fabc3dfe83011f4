-- wrk: POST /api/v1/introspect with every token of a file about once, in
-- order, starting again at the end. benches/load gives each wrk process
-- (one thread each) its own stripe of the keys, so every key is used about
-- once per run.
-- Arguments: the token file, the Authorization header value, and optionally
-- a ready file and a go file (see start_together in introspect.lua).
local requests = {}
local position = 0

function init(args)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = args[2],
  }
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", "/api/v1/introspect", headers, "token=" .. line)
  end
  if args[3] then
    -- Loaded: say so, and wait for the other wrk processes to be.
    io.open(args[3], "w"):close()
    while true do
      local go = io.open(args[4])
      if go then
        go:close()
        break
      end
      os.execute("sleep 0.005")
    end
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end
