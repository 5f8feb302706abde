#!/usr/bin/env bash
# Bounded loopback load run of `regain serve` (README "Web service"; not part of `make test`).
#   bash scripts/load-test.sh [BUILD_DIR] [REQUESTS_PER_LEVEL]
# Uploads a 1024x768 JPEG (Predictive mode) at concurrency 1, 4 and 16, a fixed number of
# requests each, then 16 clients that retry a 503 at once instead of waiting Retry-After, then
# 4 again; reports throughput, p50/p99 latency, status counts, transport errors and the
# server's RSS after each level plus its peak (VmHWM). The server runs with its defaults
# (workers = cores, queue = 2 x workers), so 16 concurrent clients overload it on purpose: the
# excess must come back as 503 + Retry-After, never as other 5xx or errors.
# The client is scripts/load-client.cpp (compiled here against Debian's cpp-httplib): wrk
# cannot stop after a fixed number of requests.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-400}
BIN="$BUILD/regain"
[ -x "$BIN" ] || { echo "no $BIN: build first (make build)"; exit 1; }

WORK=$(mktemp -d /tmp/regain-load-XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

source scripts/load-setup.sh

"$BIN" serve --port 0 --quiet --ttl 60 > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -nE 's/.*listening on http:\/\/127\.0\.0\.1:([0-9]+).*/\1/p' "$WORK/serve.out")
[ -n "$PORT" ] || { echo "server did not start"; cat "$WORK/serve.err"; exit 1; }
head -1 "$WORK/serve.out"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }
( while kill -0 "$SERVER_PID" 2>/dev/null; do awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; sleep 0.1; done ) \
  > "$WORK/rss.log" 2>/dev/null &
SAMPLER_PID=$!

field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }
bad=0
printf "%-8s %5s %7s %7s %7s %7s %7s %9s %9s %5s %5s %5s %7s\n" conc reqs "resp/s" "ok/s" p50_ms p99_ms max_ms \
  ok_p50_ms ok_p99_ms 200 503 other rss_MB
run_level() {  # concurrency requests [backoff]
  local line st ok busy other label=$1
  [ "${3:-1}" = 0 ] && label="$1-nowait"
  line=$("$CLIENT" 127.0.0.1 "$PORT" "$IMG" "$1" "$2" "${3:-1}")
  st=$(field statuses "$line")
  ok=$(tr ',' '\n' <<<"$st" | awk -F= '$1==200 {s+=$2} END {print s+0}')
  busy=$(tr ',' '\n' <<<"$st" | awk -F= '$1==503 {s+=$2} END {print s+0}')
  other=$(tr ',' '\n' <<<"$st" | awk -F= '$1!=200 && $1!=503 {s+=$2} END {print s+0}')
  printf "%-8s %5s %7s %7s %7s %7s %7s %9s %9s %5s %5s %5s %7s\n" "$label" "$(field requests "$line")" \
    "$(field resp_per_s "$line")" "$(field ok_per_s "$line")" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field max_ms "$line")" "$(field ok_p50_ms "$line")" \
    "$(field ok_p99_ms "$line")" "$ok" "$busy" "$other" "$(rss_mb)"
  if [ "$other" -ne 0 ]; then echo "  !! statuses other than 200/503 (0 = transport error): $st"; bad=1; fi
}
run_level 1 20 > /dev/null   # warm-up (page cache, pixel pools)
echo "after warm-up: RSS $(rss_mb) MB"
run_level 1 "$N"
run_level 4 "$N"
run_level 16 "$N"
run_level 16 "$N" 0
run_level 4 "$N"
echo "server counters: $(curl -s "http://127.0.0.1:$PORT/health")"
echo "peak RSS (VmHWM): $(awk '/^VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$SERVER_PID/status")"
awk 'NR==1 {min=$1; max=$1} {if ($1<min) min=$1; if ($1>max) max=$1} END {printf "RSS every 100 ms: min %.1f MB, max %.1f MB over %d samples\n", min/1024, max/1024, NR}' "$WORK/rss.log"
[ "$bad" -eq 0 ] && echo "load run: no errors other than deliberate 503s" || { echo "load run: UNEXPECTED ERRORS"; exit 1; }
