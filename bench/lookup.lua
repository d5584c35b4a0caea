-- wrk script: random customer look-ups by id or by email, authenticated with an API key.
-- Env: BENCH_MODE (id|email), BENCH_MAX_ID, BENCH_EMAILS (file, one per line), BENCH_KEY.
local mode = os.getenv("BENCH_MODE")
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local emails = {}

function init(args)
  if mode == "email" then
    for line in io.lines(os.getenv("BENCH_EMAILS")) do emails[#emails + 1] = line end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
end

function request()
  if mode == "email" then
    local path = "/api/v1/customers?email=" .. emails[math.random(#emails)]
    return wrk.format("GET", path)
  end
  return wrk.format("GET", "/api/v1/customers/" .. math.random(max_id))
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
