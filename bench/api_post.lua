-- api_post.lua — wrk script for bench/api.sh: every request is POST
-- /v1/messages with the JSON message read from the file named by
-- API_BODY and the key from API_KEY (Bearer), on kept-alive connections.
-- At the end it prints the answers and those with a 4xx or 5xx status, so
-- the driver counts only the accepted messages and sees any refusal.
local body_file = os.getenv("API_BODY")
local key = os.getenv("API_KEY")
local f = assert(io.open(body_file, "rb"), "API_BODY: cannot open " .. tostring(body_file))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

-- No response() hook: with one, wrk hands every answer's header and body
-- to Lua, which costs the client (on the same cores as the server) more
-- than the SMTP loader spends on a reply.  wrk counts the answers with a
-- status of 400 or more itself (3xx, which this endpoint never gives,
-- would count as done).
function done(summary, latency, requests)
  io.write(string.format("answers %d\nstatus_errors %d\n", summary.requests, summary.errors.status))
  io.write(string.format("duration_us %d\n", summary.duration))
  io.write(string.format("latency_p50_us %d\nlatency_p99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
