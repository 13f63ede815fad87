-- wrk script of `make bench-pages` (bench/pages.py): counts every answer that is not 2xx
-- and prints, when the run ends, one line "BENCH_PAGES_WRK {json}" with the request count,
-- the duration, the latency percentiles (microseconds) and the errors: non-2xx answers
-- (a redirect to the sign-in page counts), and socket connect/read/write errors and
-- timeouts. wrk's own "status" count (answers of 400 and above) is printed too but is
-- already inside non2xx.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_PAGES_WRK {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean
  ))
end
