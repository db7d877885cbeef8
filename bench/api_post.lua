-- api_post.lua — wrk script for bench/api.sh: every request is POST
-- /v1/messages with the JSON message read from the file named by
-- API_BODY and the key from API_KEY (Bearer), on kept-alive connections.
-- At the end it prints the count of each status, so the driver counts only
-- 2xx answers (a message accepted) and sees any refusal.
local body_file = os.getenv("API_BODY")
local key = os.getenv("API_KEY")
local f = assert(io.open(body_file, "rb"), "API_BODY: cannot open " .. tostring(body_file))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      all[code] = (all[code] or 0) + n
    end
  end
  for code, n in pairs(all) do
    io.write(string.format("status %d %d\n", code, n))
  end
  io.write(string.format("duration_us %d\n", summary.duration))
  io.write(string.format("latency_p50_us %d\nlatency_p99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
