#!/usr/bin/env bash
# Gateway throughput and added latency, with nginx's limit_req as the peer, all in one run on
# this machine (wrk and the servers share the same cores). Every request is
# POST /v1/chat/completions with a small JSON body under one key; limits high enough never to
# refuse, except in E.
#   U  wrk → nginx's fixed-JSON upstream directly          (the floor: a zero-latency upstream)
#   N  wrk → nginx limit_req (keyed by Authorization) → U  (the peer)
#   S  wrk → bucketscope serve → U                          (the gateway, same upstream as N)
#   S0 the same with BUCKETSCOPE_FAST_PATH=off               (every request the Hummingbird way)
#   H  wrk → GET /healthz on the gateway                    (the HTTP server alone)
#   M  wrk → the mock upstream directly, and MS: serve → the mock
#   then U, N and S again at about half of N's full-load rate (paced: see below), for the added
#   latency at that load: S' − U' (the gateway's) beside N' − U' (nginx's);
#   E  a flood over the limit: one key limited to 1 request/s (burst 2; nginx burst=1 nodelay),
#      so nearly every answer is a 429 (serve logs each, as headless mode does).
#   K  a new random key on every request (a client rotating keys): every request is a first
#      sight of its key, for the limiter and the metrics (serve's RSS printed after).
# Each row also gives the CPU time its servers spent per request (utime + stime from /proc, in
# microseconds): the servers it passes through (U: nginx; N: nginx, which is both limiter and
# upstream; S: serve + nginx). On a machine shared with other work, requests/s follow the CPU
# the scheduler grants; CPU per request does not.
#
#   scripts/bench-serve.sh [BINARY] [SECONDS]     (default .build/release/bucketscope, 10 s per run)
#
# Full load: wrk -t1 -c32. Paced: wrk has no constant-rate mode (wrk2 is not installed), so each
# of C connections waits D ms (wrk's delay() hook, whole milliseconds) after every answer:
# D = 2 ms and C = half-rate × D / 1000, an offered rate of at most half of N's (a closed loop:
# a slower server is offered a little less). The achieved rate is printed for every row.
#
# Needs wrk and nginx (apt-get install -y wrk nginx) and /work/shared/tools/nginx-limit-req/run
# (or NGINX_PEER=path/to/run). Builds nothing. Stops everything it started.
set -euo pipefail

BIN=${1:-.build/release/bucketscope}
SECS=${2:-10}
PEER=${NGINX_PEER:-/work/shared/tools/nginx-limit-req/run}
[[ -x $BIN ]] || { echo "bench-serve: no executable at $BIN (swift build -c release)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-serve: needs wrk" >&2; exit 2; }
command -v nginx >/dev/null && [[ -x $PEER ]] || { echo "bench-serve: needs nginx and $PEER" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for n in ngx ngx-slow; do kill "$(cat "$WORK/$n/nginx.pid" 2>/dev/null)" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

port_of() {  # port_of LOGFILE: the port printed on "listening on http://HOST:PORT"
  for _ in $(seq 100); do
    p=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | head -1 | sed 's/.*://') || true
    [[ -n $p ]] && { echo "$p"; return; }
    sleep 0.1
  done
  cat "$1" >&2; echo "bench-serve: server did not start" >&2; exit 1
}

NGX=$((20000 + RANDOM % 20000))
UP=$((NGX + 1))
"$PEER" "$WORK/ngx" "$NGX" 1000000 1000000 > "$WORK/nginx.log" 2>&1 & PIDS+=($!)
NGX_PID=$!
NGX_SLOW=$((NGX + 2))
"$PEER" "$WORK/ngx-slow" "$NGX_SLOW" 1 1 > "$WORK/nginx-slow.log" 2>&1 & PIDS+=($!)
NGX_SLOW_PID=$!

"$BIN" mock-upstream --listen 127.0.0.1:0 > "$WORK/mock.log" 2>&1 & PIDS+=($!)
MOCK=$(port_of "$WORK/mock.log")
cat > "$WORK/gateway.toml" <<'TOML'
[limits]
capacity = 1000000000
refill = 1000000000
tpm = 1000000000
[keys.flood]
key = "sk-flood"
capacity = 2
refill = 1
TOML
sleep 1
"$BIN" serve --headless --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$UP" --config "$WORK/gateway.toml" \
  > "$WORK/serve.log" 2>&1 & PIDS+=($!)
GW=$(port_of "$WORK/serve.log")
GW_PID=${PIDS[-1]}
BUCKETSCOPE_FAST_PATH=off "$BIN" serve --headless --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$UP" \
  --config "$WORK/gateway.toml" > "$WORK/serve-slow.log" 2>&1 & PIDS+=($!)
GWS=$(port_of "$WORK/serve-slow.log")
GWS_PID=${PIDS[-1]}
"$BIN" serve --headless --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$MOCK" --config "$WORK/gateway.toml" \
  > "$WORK/serve-mock.log" 2>&1 & PIDS+=($!)
GWM=$(port_of "$WORK/serve-mock.log")
GWM_PID=${PIDS[-1]}
MOCK_PID=${PIDS[2]}   # after the two nginx runs
workers() { pgrep -P "$1" | tr '\n' ' '; }   # nginx's worker under its master
NGX_W=$(workers "$NGX_PID")
NGX_SLOW_W=$(workers "$NGX_SLOW_PID")
ticks() { local t=0 p; for p in "$@"; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + $1 + $2)); done; echo $t; }

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"mock-1","max_tokens":16,"messages":[{"role":"user","content":"Say hi"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
sed 's/sk-bench/sk-flood/' "$WORK/post.lua" > "$WORK/flood.lua"
# A client rotating keys (or an attacker): a new random key on every request.
cat > "$WORK/keys.lua" <<'LUA'
math.randomseed(7)
local body = '{"model":"mock-1","max_tokens":16,"messages":[{"role":"user","content":"Say hi"}]}'
request = function()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer sk-" .. math.random(1, 1000000000)}, body)
end
LUA

rps_of() { awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/$1.txt"; }
run() {  # CPU="PIDS" run NAME URL [paced CONNECTIONS | flood | get]
  local script=$WORK/post.lua conns=32 t0
  t0=$(ticks $CPU)
  case ${3:-} in
    flood) script=$WORK/flood.lua ;;
    keys) script=$WORK/keys.lua ;;
    paced) script=$WORK/paced.lua conns=$4 ;;
    get) script="" ;;
  esac
  if [[ -n $script ]]; then
    wrk -t1 -c"$conns" -d"${SECS}s" --latency -s "$script" "$2" > "$WORK/$1.txt" 2>&1
  else
    wrk -t1 -c"$conns" -d"${SECS}s" --latency -H 'Authorization: Bearer sk-bench' "$2" > "$WORK/$1.txt" 2>&1
  fi
  local t1 p50 p99 non2xx requests cpu
  t1=$(ticks $CPU)
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/$1.txt")
  requests=$(awk '/requests in/ {print $1}' "$WORK/$1.txt")
  cpu=$(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / (requests > 0 ? requests : 1) ))
  printf "%-34s %7s req/s  p50 %8s  p99 %8s  cpu %3s us/req  non-2xx %s\n" "$1" "$(rps_of "$1")" "$p50" "$p99" "$cpu" "${non2xx:-0}"
}

echo "bench-serve: $SECS s per run, wrk -t1, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
CPU="$NGX_W" run "U upstream directly (c32)" "http://127.0.0.1:$UP/v1/chat/completions"
CPU="$NGX_W" run "N nginx limit_req -> U (c32)" "http://127.0.0.1:$NGX/v1/chat/completions"
CPU="$GW_PID $NGX_W" run "S serve -> U (c32)" "http://127.0.0.1:$GW/v1/chat/completions"
CPU="$GWS_PID $NGX_W" run "S0 serve -> U, no fast path (c32)" "http://127.0.0.1:$GWS/v1/chat/completions"
CPU="$GW_PID" run "H serve GET healthz (c32)" "http://127.0.0.1:$GW/healthz" get
CPU="$MOCK_PID" run "M mock directly (c32)" "http://127.0.0.1:$MOCK/v1/chat/completions"
CPU="$GWM_PID $MOCK_PID" run "MS serve -> mock (c32)" "http://127.0.0.1:$GWM/v1/chat/completions"

HALF=$(( $(rps_of "N nginx limit_req -> U (c32)") / 2 ))
DELAY=2
CONNS=$(( HALF * DELAY / 1000 ))
[[ $CONNS -lt 1 ]] && CONNS=1
{ cat "$WORK/post.lua"; echo "function delay() return $DELAY end"; } > "$WORK/paced.lua"
echo "paced runs: half of N = $HALF req/s offered at most ($CONNS connections, $DELAY ms after each answer)"
CPU="$NGX_W" run "U' upstream directly (paced)" "http://127.0.0.1:$UP/v1/chat/completions" paced "$CONNS"
CPU="$NGX_W" run "N' nginx limit_req -> U (paced)" "http://127.0.0.1:$NGX/v1/chat/completions" paced "$CONNS"
CPU="$GW_PID $NGX_W" run "S' serve -> U (paced)" "http://127.0.0.1:$GW/v1/chat/completions" paced "$CONNS"
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else printf "%.3f", v * 1000 }'; }
pct() { ms "$(awk -v q="$2" '$1 == q {print $2}' "$WORK/$1.txt")"; }
added() {  # added NAME: its p50 and p99 minus U''s
  awk -v a50="$(pct "$1" 50%)" -v a99="$(pct "$1" 99%)" -v u50="$(pct "U' upstream directly (paced)" 50%)" \
      -v u99="$(pct "U' upstream directly (paced)" 99%)" -v n="$1" \
      'BEGIN { printf "  added by %-32s p50 %+.3f ms   p99 %+.3f ms\n", n, a50 - u50, a99 - u99 }'
}
added "N' nginx limit_req -> U (paced)"
added "S' serve -> U (paced)"
CPU="$GW_PID" run "E serve, key over its limit (c32)" "http://127.0.0.1:$GW/v1/chat/completions" flood
CPU="$NGX_SLOW_W" run "E nginx, key over its limit (c32)" "http://127.0.0.1:$NGX_SLOW/v1/chat/completions" flood
CPU="$GW_PID $NGX_W" run "K serve, a new key per request" "http://127.0.0.1:$GW/v1/chat/completions" keys
echo "  serve's RSS after K: $(awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$GW_PID/status")"
CPU="$NGX_W" run "K nginx, a new key per request" "http://127.0.0.1:$NGX/v1/chat/completions" keys
