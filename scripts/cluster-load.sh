#!/usr/bin/env bash
# Throughput of one replica vs three behind HAProxy, results in Redis (not part of `make test`).
#   bash scripts/cluster-load.sh [BUILD_DIR] [REQUESTS_PER_LEVEL]
# Uploads a 1024x768 JPEG (Predictive mode) at concurrency 4 and 16 (clients honour
# Retry-After), first straight to one `serve --store redis://...` replica, then through
# HAProxy to three; prints requests/s and p50/p99 per level, the statuses, and Redis memory
# per stored result. On a 2-core machine three replicas share the same two cores, so expect no
# speed-up: the figures show the balancer's cost and that overload still ends in 503s only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-200}
BIN="$BUILD/regain"
[ -x "$BIN" ] || { echo "no $BIN: build first (make build)"; exit 1; }
WORK=$(mktemp -d /tmp/regain-cluster-load-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
source scripts/load-setup.sh
BASE=$((20000 + RANDOM % 20000))
REDIS=$((BASE + 10)) LB=$BASE
redis-server --port "$REDIS" --bind 127.0.0.1 --save "" --appendonly no --maxmemory 1gb \
  --maxmemory-policy noeviction --dir "$WORK" >"$WORK/redis.log" 2>&1 &
pids+=($!)
for i in 1 2 3; do
  "$BIN" serve --port $((BASE + i)) --store "redis://127.0.0.1:$REDIS" --quiet --ttl 60 >"$WORK/r$i.log" 2>&1 &
  pids+=($!)
done
REGAIN_LB_BIND="127.0.0.1:$LB" REGAIN_R1="127.0.0.1:$((BASE + 1))" REGAIN_R2="127.0.0.1:$((BASE + 2))" \
  REGAIN_R3="127.0.0.1:$((BASE + 3))" haproxy -db -f deploy/haproxy/regain.cfg >"$WORK/haproxy.log" 2>&1 &
pids+=($!)
for p in $LB $((BASE + 1)) $((BASE + 2)) $((BASE + 3)); do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/health" >/dev/null 2>&1 && break; sleep 0.1; done
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }
printf "%-22s %5s %5s %8s %8s %8s  %s\n" setup conc reqs "resp/s" p50_ms p99_ms statuses
level() {  # label port concurrency
  local line
  line=$("$CLIENT" 127.0.0.1 "$2" "$IMG" "$3" "$N" 1)
  printf "%-22s %5s %5s %8s %8s %8s  %s\n" "$1" "$3" "$(field requests "$line")" "$(field resp_per_s "$line")" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field statuses "$line")"
}
"$CLIENT" 127.0.0.1 $((BASE + 1)) "$IMG" 1 10 1 >/dev/null  # warm-up
mem0=$(redis-cli -p "$REDIS" info memory | sed -nE 's/^used_memory:([0-9]+).*/\1/p')
keys0=$(redis-cli -p "$REDIS" dbsize)
level "1 replica (direct)" $((BASE + 1)) 4
mem1=$(redis-cli -p "$REDIS" info memory | sed -nE 's/^used_memory:([0-9]+).*/\1/p')
keys1=$(redis-cli -p "$REDIS" dbsize)
level "1 replica (direct)" $((BASE + 1)) 16
level "3 replicas (haproxy)" "$LB" 4
level "3 replicas (haproxy)" "$LB" 16
sets=$(( (keys1 - keys0) / 5 ))
[ "$sets" -gt 0 ] && echo "redis: $(( (mem1 - mem0) / sets / 1024 )) KiB per stored result ($sets results of 5 files, 1024x768 input)"
