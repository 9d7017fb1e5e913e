-- wrk: FB03 /00 dialog steps spread over the sessions in $COOKIES (one
-- "~session=..." per line), each connection starting at its own offset.
local cookies = {}
for line in io.lines(os.getenv("COOKIES")) do cookies[#cookies + 1] = line end
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local i = 0
function request()
  i = i + 1
  local c = cookies[((i * 7 + offset * 13) % #cookies) + 1]
  return wrk.format("GET", "/scripts/wgate/webgui/?~okcode=/00", {["Cookie"] = c})
end
