#!/usr/bin/env bash
# Gateway throughput and added latency, with nginx's limit_req as the peer, all in one run on
# this machine (wrk and the servers share the same cores):
#   A  wrk → mock upstream directly                  (the floor)
#   B  wrk → bucketscope serve → mock upstream       (the gateway; limits high enough never to refuse)
#   C  wrk → nginx limit_req (keyed by Authorization) → nginx's fixed-JSON upstream
#   B2 wrk → bucketscope serve → nginx's fixed-JSON upstream (the same upstream as C: the fair pair)
#   D  wrk → GET /healthz on the gateway             (the HTTP server alone, no upstream)
#   then A and B again at about half of C's rate (wrk paced with a per-request delay) for the
#   added latency p50/p99 at that load;
#   E  a flood over the limit: wrk → serve and → nginx with one key limited to 1 request/s, so
#      nearly every answer is a 429 (burst 2: nginx burst=1 nodelay; serve logs each 429, as
#      headless mode does).
# All requests are POST /v1/chat/completions with a small JSON body and one API key.
#
#   scripts/bench-serve.sh [BINARY] [SECONDS]     (default .build/release/bucketscope, 10 s per run)
#
# Needs wrk and nginx (apt-get install -y wrk nginx) and /work/shared/tools/nginx-limit-req/run
# (or NGINX_PEER=path/to/run). Builds nothing. Stops everything it started.
set -euo pipefail

BIN=${1:-.build/release/bucketscope}
SECS=${2:-10}
PEER=${NGINX_PEER:-/work/shared/tools/nginx-limit-req/run}
[[ -x $BIN ]] || { echo "bench-serve: no executable at $BIN (swift build -c release)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-serve: needs wrk" >&2; exit 2; }

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
"$BIN" serve --headless --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$MOCK" --config "$WORK/gateway.toml" \
  > "$WORK/serve.log" 2>&1 & PIDS+=($!)
GW=$(port_of "$WORK/serve.log")
NGX=""
GW2=""
if [[ -x $PEER ]] && command -v nginx >/dev/null; then
  NGX=$((20000 + RANDOM % 20000))
  "$PEER" "$WORK/ngx" "$NGX" 1000000 1000000 > "$WORK/nginx.log" 2>&1 & PIDS+=($!)
  NGX_SLOW=$((NGX + 2))
  "$PEER" "$WORK/ngx-slow" "$NGX_SLOW" 1 1 > "$WORK/nginx-slow.log" 2>&1 & PIDS+=($!)
  sleep 1
  "$BIN" serve --headless --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$((NGX + 1))" --config "$WORK/gateway.toml" \
    > "$WORK/serve2.log" 2>&1 & PIDS+=($!)
  GW2=$(port_of "$WORK/serve2.log")
fi

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"mock-1","max_tokens":16,"messages":[{"role":"user","content":"Say hi"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA

sed 's/sk-bench/sk-flood/' "$WORK/post.lua" > "$WORK/flood.lua"

run() {  # run NAME URL [DELAY_MS CONNECTIONS | flood]
  local script=$WORK/post.lua conns=32
  if [[ ${3:-} == flood ]]; then
    script=$WORK/flood.lua
  elif [[ -n ${3:-} ]]; then
    script=$WORK/paced.lua conns=$4
    { cat "$WORK/post.lua"; echo "function delay() return $3 end"; } > "$script"
  fi
  wrk -t1 -c"$conns" -d"${SECS}s" --latency -s "$script" "$2" > "$WORK/$1.txt" 2>&1
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/$1.txt")
  printf "%-44s %8s req/s   p50 %8s   p99 %8s   non-2xx %s\n" "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "bench-serve: $SECS s per run, wrk -t1, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
run "A mock direct (c32)" "http://127.0.0.1:$MOCK/v1/chat/completions"
run "B serve -> mock (c32)" "http://127.0.0.1:$GW/v1/chat/completions"
NGX_RPS=0
if [[ -n $NGX ]]; then
  run "C nginx limit_req -> upstream (c32)" "http://127.0.0.1:$NGX/v1/chat/completions"
  NGX_RPS=$(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/C nginx limit_req -> upstream (c32).txt")
  run "B2 serve -> nginx's upstream (c32)" "http://127.0.0.1:$GW2/v1/chat/completions"
fi
wrk -t1 -c32 -d"${SECS}s" --latency -H 'Authorization: Bearer sk-bench' "http://127.0.0.1:$GW/healthz" > "$WORK/D.txt" 2>&1
printf "%-44s %8s req/s   p50 %8s   p99 %8s\n" "D serve GET /healthz (c32)" "$(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/D.txt")" \
  "$(awk '$1 == "50%" {print $2}' "$WORK/D.txt")" "$(awk '$1 == "99%" {print $2}' "$WORK/D.txt")"

# Half of nginx's rate (or of B's without nginx), paced: 16 connections each waiting DELAY ms
# after every answer, so the offered rate is at most 16000 / DELAY per second.
TARGET=$(( ${NGX_RPS:-0} > 0 ? NGX_RPS / 2 : $(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/B serve -> mock (c32).txt") / 2 ))
DELAY=$(( TARGET > 0 ? (16000 + TARGET - 1) / TARGET : 1 ))
[[ $DELAY -lt 1 ]] && DELAY=1
echo "paced runs: target about $TARGET req/s (16 connections, ${DELAY} ms between requests each)"
run "A' mock direct (paced)" "http://127.0.0.1:$MOCK/v1/chat/completions" "$DELAY" 16
run "B' serve -> mock (paced)" "http://127.0.0.1:$GW/v1/chat/completions" "$DELAY" 16
echo "added latency = B' - A' at the same offered load (wrk's latency includes its own pacing jitter)"
run "E serve, key over its limit (c32)" "http://127.0.0.1:$GW/v1/chat/completions" flood
[[ -n $NGX ]] && run "E nginx, key over its limit (c32)" "http://127.0.0.1:$NGX_SLOW/v1/chat/completions" flood
true
