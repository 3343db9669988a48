-- wrk script: POST the request in $MQ_BENCH_REQUEST (a contract JSON file),
-- or, when it names several files separated by spaces, each in turn. With
-- MQ_BENCH_EMAIL set, each request's applicant gets an email of its own
-- (shopper-<thread>-<n>@example.com), as different shoppers would give.
local bodies = {}
for path in string.gmatch(os.getenv("MQ_BENCH_REQUEST"), "%S+") do
  local f = assert(io.open(path, "r"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
wrk.method = "POST"
wrk.body = bodies[1]
wrk.headers["Content-Type"] = "application/json"

if os.getenv("MQ_BENCH_EMAIL") then
  local n, threads = 0, 0
  setup = function(thread) -- each thread's global `id`: 1, 2...
    threads = threads + 1
    thread:set("id", threads)
  end
  request = function()
    n = n + 1
    local body = bodies[(n % #bodies) + 1]
    local email = string.format('"applicant": {"email": "shopper-%d-%d@example.com", ', id, n)
    local with, found = string.gsub(body, '"applicant"%s*:%s*{%s*', email, 1)
    assert(found == 1, "MQ_BENCH_EMAIL: the request has no applicant")
    return wrk.format(nil, nil, nil, with)
  end
elseif #bodies > 1 then
  local n = 0
  request = function()
    n = n + 1
    return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
