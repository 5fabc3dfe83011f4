-- wrk: POST /api/v1/revoke with a junk token as long as a real one. The
-- handler rejects it at once, so this measures what any POST of that size
-- costs in the HTTP stack: the floor under introspection.
-- Argument: the token length.
local request_text

function init(args)
  local body = "token=" .. string.rep("x", tonumber(args[1]))
  request_text = wrk.format("POST", "/api/v1/revoke", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function request()
  return request_text
end
