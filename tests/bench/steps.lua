-- wrk: FB03 /00 dialog steps spread over the sessions in $COOKIES (one
-- "~session=..." per line), each connection starting at its own offset.
-- The request texts are built once per thread (init), not per request: the
-- load generator should spend its CPU on sending, as the plain wrk of the
-- anchor run does.
local cookies = {}
for line in io.lines(os.getenv("COOKIES")) do cookies[#cookies + 1] = line end
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local requests = {}
function init(args)
  for k, c in ipairs(cookies) do
    requests[k] = wrk.format("GET", "/scripts/wgate/webgui/?~okcode=/00", {["Cookie"] = c})
  end
end
local i = 0
function request()
  i = i + 1
  return requests[((i * 7 + offset * 13) % #requests) + 1]
end
