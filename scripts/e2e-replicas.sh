#!/usr/bin/env bash
# End-to-end check of limits shared by two `bucketscope serve` replicas through Redis:
#   1. two `serve --mock --headless --store redis://…` processes, driven together by two wrk
#      for 10 s against one key limited to R requests/s with a burst of B: the pair admits
#      B + 10·R in total (±1 per replica), read from their /metrics;
#   2. the same without --store: each replica admits B + 10·R on its own, about 2× that;
#   3. per failure policy (closed, open, local with --replicas 2): Redis stopped in the middle
#      of a load for 2 s (closed: frozen with SIGSTOP, so store calls time out; open and local:
#      killed, so connections are refused), then back. During the outage: closed admits
#      nothing (503s), open admits everything, local admits B + 2 s·R (the shared limit, each
#      replica holding half); no request takes longer than 1 s (store timeout 50 ms) and none
#      times out; from one second after Redis returns, a fresh key is limited exactly again
#      (B + 3·R over 3 s).
# Builds nothing: takes the binary as $1 (default .build/debug/bucketscope). Needs
# redis-server, redis-cli, wrk, curl, python3 (for free ports). Loopback only. About 60 s.
# Prints a summary; exits non-zero on any failure; always stops what it started.
set -euo pipefail

BIN=${1:-.build/debug/bucketscope}
[[ -x $BIN ]] || { echo "e2e-replicas: no executable at $BIN (build first: swift build)" >&2; exit 2; }
for tool in redis-server redis-cli wrk curl python3; do
  command -v $tool >/dev/null || { echo "e2e-replicas: needs $tool" >&2; exit 2; }
done

B=10        # burst, requests
R=5         # refill, requests per second
D=10        # seconds of load in checks 1 and 2

WORK=$(mktemp -d)
SERVE_PIDS=()
REDIS_PID=""
WRK_PIDS=()
cleanup() {
  for p in "${WRK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SERVE_PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [[ -n $REDIS_PID ]]; then
    kill -CONT "$REDIS_PID" 2>/dev/null || true
    kill -KILL "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

FAILURES=0
check() {   # check NAME CONDITION-EXIT-STATUS
  if [[ $2 == 0 ]]; then echo "  ok   $1"; else echo "  FAIL $1"; FAILURES=$((FAILURES + 1)); fi
}
within() {  # within VALUE EXPECTED TOLERANCE
  local d=$(( $1 - $2 )); (( d < 0 )) && d=$(( -d )); (( d <= $3 ))
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

REDIS_PORT=$(free_port)
start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --loglevel warning > "$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "e2e-replicas: redis-server did not start" >&2; cat "$WORK/redis.log" >&2; exit 1
}
kill_redis() {
  kill -KILL "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
}

# Named keys, so /metrics counts each by name.
cat > "$WORK/gateway.toml" <<TOML
keying = "per-key"
[limits]
capacity = $B
refill = $R
tpm = 1000000
[keys.shared]
key = "sk-e2e-shared"
[keys.local]
key = "sk-e2e-local"
[keys.load]
key = "sk-e2e-load"
[keys.check]
key = "sk-e2e-check"
TOML

# wrk's Lua: count answers by status, and report the slowest and the timeouts.
cat > "$WORK/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; limited = 0; unavailable = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 429 then limited = limited + 1
  elseif status == 503 then unavailable = unavailable + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local t = {ok = 0, limited = 0, unavailable = 0, other = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  io.write(string.format("ok=%d limited=%d unavailable=%d other=%d max_ms=%d timeouts=%d\n", t.ok, t.limited,
    t.unavailable, t.other, math.floor(latency.max / 1000), summary.errors.timeout))
end
LUA

PORTS=()
start_serves() {   # start_serves FLAGS...: two replicas; their ports in PORTS
  PORTS=()
  SERVE_PIDS=()
  for i in 1 2; do
    "$BIN" serve --mock --headless --listen 127.0.0.1:0 --config "$WORK/gateway.toml" "$@" > "$WORK/serve$i.log" 2>&1 &
    SERVE_PIDS+=($!)
  done
  for i in 0 1; do
    local port=""
    for _ in $(seq 200); do
      port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$WORK/serve$((i + 1)).log" | head -1 | sed 's/.*://') || true
      [[ -n $port ]] && break
      kill -0 "${SERVE_PIDS[$i]}" 2>/dev/null || { cat "$WORK/serve$((i + 1)).log" >&2; echo "e2e-replicas: serve exited" >&2; exit 1; }
      sleep 0.05
    done
    [[ -n $port ]] || { echo "e2e-replicas: serve did not start" >&2; exit 1; }
    PORTS+=("$port")
  done
}
stop_serves() {
  for p in "${SERVE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SERVE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  SERVE_PIDS=()
}

admitted() {   # admitted KEY: admitted requests of KEY summed over both replicas
  local total=0 n
  for port in "${PORTS[@]}"; do
    n=$(curl -s "http://127.0.0.1:$port/metrics" | awk -v k="bucketscope_gateway_admitted_total{key=\"$1\"}" '$1 == k {printf "%d", $2}')
    total=$(( total + ${n:-0} ))
  done
  echo "$total"
}
metric_sum() {   # metric_sum NAME-PREFIX: a metric summed over both replicas
  local total=0 n
  for port in "${PORTS[@]}"; do
    n=$(curl -s "http://127.0.0.1:$port/metrics" | awk -v k="$1" 'index($1, k) == 1 {s += $2} END {printf "%d", s}')
    total=$(( total + ${n:-0} ))
  done
  echo "$total"
}

load() {   # load SECONDS KEY OUT-PREFIX: wrk on both replicas at once, in the background
  WRK_PIDS=()
  for i in 0 1; do
    wrk -t1 -c2 -d"$1"s --timeout 2s -s "$WORK/count.lua" -H "authorization: Bearer sk-e2e-$2" \
      "http://127.0.0.1:${PORTS[$i]}/v1/models" > "$WORK/$3$i.txt" 2>&1 &
    WRK_PIDS+=($!)
  done
}
wait_load() { for p in "${WRK_PIDS[@]}"; do wait "$p" || true; done; WRK_PIDS=(); }
field() {   # field NAME OUT-PREFIX: a counter from both wrk reports, summed (max for max_ms)
  local a b
  a=$(grep -o "$1=[0-9]*" "$WORK/${2}0.txt" | cut -d= -f2); b=$(grep -o "$1=[0-9]*" "$WORK/${2}1.txt" | cut -d= -f2)
  if [[ $1 == max_ms ]]; then echo $(( ${a:-99999} > ${b:-99999} ? ${a:-99999} : ${b:-99999} )); else echo $(( ${a:-0} + ${b:-0} )); fi
}

start_redis
EXPECTED=$(( B + D * R ))
echo "limit: burst $B, refill $R/s; two replicas driven together for ${D}s → expected $EXPECTED admitted in total"

# 1. Shared through Redis.
echo "shared store (--store redis://127.0.0.1:$REDIS_PORT):"
start_serves --store "redis://127.0.0.1:$REDIS_PORT" --on-store-failure closed --store-timeout 250ms
load "$D" shared base
wait_load
shared=$(admitted shared)
errors=$(metric_sum bucketscope_gateway_store_errors_total)
within "$shared" "$EXPECTED" 2; check "admitted $shared = B + ${D}·R = $EXPECTED ±2 (store errors: $errors)" $?
stop_serves

# 2. Local buckets: each replica admits the whole limit.
echo "local buckets (no --store):"
start_serves
load "$D" local base
wait_load
local_total=$(admitted local)
within "$local_total" $(( 2 * EXPECTED )) 4; check "admitted $local_total ≈ 2 × $EXPECTED (each replica its own bucket)" $?

stop_serves

# 3. Failure policies: Redis away from t=1 s to t=3 s of a 4 s load on key "load".
OUTAGE=2
for policy in closed open local; do
  echo "on-store-failure $policy (--replicas 2, --store-timeout 50ms):"
  [[ -n $REDIS_PID ]] || start_redis
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  start_serves --store "redis://127.0.0.1:$REDIS_PORT" --on-store-failure "$policy" --replicas 2 --store-timeout 50ms
  load 4 load outage
  sleep 1
  before=$(admitted load)
  if [[ $policy == closed ]]; then kill -STOP "$REDIS_PID"; else kill_redis; fi
  sleep "$OUTAGE"
  during=$(( $(admitted load) - before ))
  if [[ $policy == closed ]]; then kill -CONT "$REDIS_PID"; else start_redis; fi
  back=$(date +%s.%N)
  wait_load
  max_ms=$(field max_ms outage); timeouts=$(field timeouts outage); other=$(field other outage)
  (( max_ms < 1000 && timeouts == 0 && other == 0 )); check "no request hung: slowest ${max_ms} ms, $timeouts timeouts, $other other errors" $?
  case $policy in
    closed)
      unavailable=$(field unavailable outage)
      (( during <= 1 && unavailable > 0 )); check "outage: $during admitted, $unavailable answered 503" $? ;;
    open)
      (( during > 3 * (B + OUTAGE * R) )); check "outage: $during admitted, far over the limit's $(( B + OUTAGE * R ))" $? ;;
    local)
      within "$during" $(( B + OUTAGE * R )) 3; check "outage: $during admitted = B + ${OUTAGE}s·R = $(( B + OUTAGE * R )) ±3 (each replica limit ÷ 2)" $? ;;
  esac
  outages=$(metric_sum bucketscope_gateway_store_outages_total); recoveries=$(metric_sum bucketscope_gateway_store_recoveries_total)
  (( outages >= 2 && recoveries >= 2 )); check "metrics: store_outages_total $outages, store_recoveries_total $recoveries (both replicas)" $?
  # Exact again from one second after Redis returned: a fresh key over 3 s.
  python3 -c "import time; time.sleep(max(0, $back + 1 - time.time()))"
  load 3 check after
  wait_load
  again=$(admitted check)
  within "$again" $(( B + 3 * R )) 2; check "from 1 s after Redis returned: $again admitted = B + 3·R = $(( B + 3 * R )) ±2" $?
  grep -q "shared store failing" "$WORK/serve1.log" && grep -q "shared store answering again" "$WORK/serve1.log"
  check "log: one line when the store failed, one when it answered again" $?
  stop_serves
done

if (( FAILURES > 0 )); then echo "e2e-replicas: $FAILURES check(s) failed"; exit 1; fi
echo "e2e-replicas: all checks passed"
