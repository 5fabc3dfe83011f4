-- wrk: POST /api/v1/introspect with a random token from a pool.
-- Arguments: the token file (one per line) and the Authorization header
-- value; optionally a ready file and a go file.
-- Requests are formatted once, in init, so wrk spends its CPU on sending
-- rather than on Lua: it shares the machine with the server it measures.
--
-- With a ready file and a go file, init touches the first once the tokens
-- are loaded and waits for the second: benches/load starts several wrk
-- processes together that way. (wrk runs each thread's init in turn and
-- starts its clock after the last, so a second thread loading a big file
-- would leave the first one sending, counted but untimed: benches/load runs
-- one thread per process for the big files.)
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
  if args[3] then
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
  return requests[math.random(#requests)]
end
