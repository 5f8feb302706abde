#!/usr/bin/env bash
# Try regain as a cluster on one machine, no containers: redis-server + 3 `regain serve`
# replicas sharing results in it + HAProxy in front (deploy/haproxy/regain.cfg), all on
# loopback ports. Ctrl-C stops everything.
#   bash scripts/cluster.sh [BUILD_DIR] [LB_PORT]      (then open http://127.0.0.1:LB_PORT/)
# Ports: LB_PORT (default 8080), replicas LB_PORT+1..+3, Redis LB_PORT+10.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
LB=${2:-8080}
BIN="$BUILD/regain"
[ -x "$BIN" ] || { echo "no $BIN: build first (make build)"; exit 1; }
REDIS_PORT=$((LB + 10))
WORK=$(mktemp -d /tmp/regain-cluster-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Results are temporary (they expire with the TTL), so Redis keeps them in memory only; at
# maxmemory it refuses new ones (503 store_full) rather than evicting results clients await.
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --maxmemory 1gb --maxmemory-policy noeviction --dir "$WORK" >"$WORK/redis.log" 2>&1 &
pids+=($!)
for i in 1 2 3; do
  "$BIN" serve --port $((LB + i)) --store "redis://127.0.0.1:$REDIS_PORT" --quiet >"$WORK/r$i.log" 2>&1 &
  pids+=($!)
done
REGAIN_LB_BIND="127.0.0.1:$LB" REGAIN_R1="127.0.0.1:$((LB + 1))" REGAIN_R2="127.0.0.1:$((LB + 2))" \
  REGAIN_R3="127.0.0.1:$((LB + 3))" haproxy -db -f deploy/haproxy/regain.cfg >"$WORK/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$LB/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$LB/health" >/dev/null || { echo "the cluster did not come up; logs in $WORK"; tail "$WORK"/*.log; exit 1; }
echo "regain cluster: http://127.0.0.1:$LB/ (replicas :$((LB + 1))-:$((LB + 3)), redis :$REDIS_PORT); Ctrl-C stops"
wait -n "${pids[@]}" || true
echo "a process exited; stopping"
