#!/usr/bin/env bash
# End-to-end check of `bucketscope serve` with real clients, against its built-in mock upstream:
#   1. curl: 401 without a key, 200 with rate-limit headers, 429 with retry-after and the
#      x-ratelimit-* / RateLimit fields;
#   2. the official OpenAI Python SDK (virtualenv under .build/venv, `pip install openai` when
#      missing): a quiet key and a noisy key in parallel; the quiet key's latency stays as it
#      was alone, the noisy key gets 429s that the SDK retries;
#   3. wrk for 10 s, then the gateway must still answer /healthz and /metrics.
# Builds nothing: takes the binary as $1 (default .build/debug/bucketscope). Needs curl, wrk,
# python3 with venv. Prints a summary; exits non-zero on any failure; always stops the gateway.
set -euo pipefail

BIN=${1:-.build/debug/bucketscope}
[[ -x $BIN ]] || { echo "e2e-serve: no executable at $BIN (build first: swift build)" >&2; exit 2; }
for tool in curl wrk python3; do
  command -v $tool >/dev/null || { echo "e2e-serve: needs $tool" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

FAILURES=0
check() {   # check NAME CONDITION-EXIT-STATUS
  if [[ $2 == 0 ]]; then echo "  ok   $1"; else echo "  FAIL $1"; FAILURES=$((FAILURES + 1)); fi
}

cat > "$WORK/gateway.toml" <<'TOML'
keying = "per-key"
max_wait = "0s"
[limits]
capacity = 5      # burst of 5 requests per key
refill = 5        # 5 requests per second per key
tpm = 1000000
[keys.quiet]
key = "sk-e2e-quiet"
tenant = "quiet"
[keys.noisy]
key = "sk-e2e-noisy"
tenant = "noisy"
TOML

"$BIN" serve --mock --headless --listen 127.0.0.1:0 --config "$WORK/gateway.toml" \
  --mock-ttft 20ms --mock-speed 2000 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 100); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1 | sed 's/.*://') || true
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; echo "e2e-serve: serve exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { cat "$WORK/serve.log" >&2; echo "e2e-serve: serve did not start" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
echo "serve --mock --headless on $URL (pid $SERVER_PID)"

# 1. curl
echo "curl:"
BODY='{"model":"mock-1","max_tokens":16,"messages":[{"role":"user","content":"Say hi"}]}'
code=$(curl -s -o "$WORK/401.json" -w '%{http_code}' "$URL/v1/chat/completions" -H 'content-type: application/json' -d "$BODY")
[[ $code == 401 ]] && grep -q '"code":"missing_api_key"' "$WORK/401.json"; check "no key → 401 in OpenAI's shape" $?
curl -s -D "$WORK/200.h" -o "$WORK/200.json" "$URL/v1/chat/completions" -H 'authorization: Bearer sk-e2e-curl' \
  -H 'content-type: application/json' -d "$BODY"
grep -q '^HTTP/1.1 200' "$WORK/200.h" && grep -qi '^x-ratelimit-remaining-requests: 4' "$WORK/200.h" \
  && grep -qi '^ratelimit-policy: "requests";q=5;w=1' "$WORK/200.h" && grep -q '"usage"' "$WORK/200.json"
check "key → 200 with x-ratelimit-* and RateLimit-Policy" $?
# Past the burst of 5 (refill 5/s; a slow machine may refill one or two meanwhile): keep the first 429.
: > "$WORK/429.h"
for _ in $(seq 15); do
  curl -s -D "$WORK/try.h" -o "$WORK/try.json" "$URL/v1/chat/completions" -H 'authorization: Bearer sk-e2e-curl' \
    -H 'content-type: application/json' -d "$BODY"
  if grep -q '^HTTP/1.1 429' "$WORK/try.h"; then mv "$WORK/try.h" "$WORK/429.h"; mv "$WORK/try.json" "$WORK/429.json"; break; fi
done
grep -q '^HTTP/1.1 429' "$WORK/429.h" && grep -qi '^retry-after: 1' "$WORK/429.h" && grep -qi '^retry-after-ms: [0-9]' "$WORK/429.h" \
  && grep -qi '^x-ratelimit-reset-requests: [0-9.]*m\?s' "$WORK/429.h" && grep -qi '^ratelimit: "requests";r=0' "$WORK/429.h" \
  && grep -q '"type":"requests"' "$WORK/429.json"
check "burst → 429 with retry-after, retry-after-ms, x-ratelimit-reset-requests, RateLimit" $?
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/chat/completions" -H 'authorization: Bearer sk-e2e-bad' \
  -H 'content-type: application/json' -d '{"model":')
[[ $code == 400 ]]; check "malformed JSON → 400" $?

# 2. OpenAI Python SDK, quiet and noisy keys in parallel.
echo "openai-python:"
VENV=.build/venv
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check openai
fi
"$VENV/bin/python" - "$URL" > "$WORK/sdk.txt" <<'PY'
import statistics, sys, threading, time
import openai
try:  # newer openai releases are built on httpx2, older ones on httpx
    import httpx2 as httpx
    Client = openai.DefaultHttpx2Client
except ImportError:
    import httpx
    Client = openai.DefaultHttpxClient

url = sys.argv[1] + "/v1"
statuses = {"quiet": [], "noisy": []}
lock = threading.Lock()

def client(key, name):
    def hook(response):
        with lock: statuses[name].append(response.status_code)
    return openai.OpenAI(api_key=key, base_url=url, max_retries=4,
                         http_client=Client(event_hooks={"response": [hook]}))

def ask(c):
    start = time.perf_counter()
    r = c.chat.completions.create(model="mock-1", max_tokens=16, messages=[{"role": "user", "content": "Say hi"}])
    assert r.usage.total_tokens > 0
    return (time.perf_counter() - start) * 1000

def quiet_run(seconds):
    c = client("sk-e2e-quiet", "quiet")
    lat, end = [], time.time() + seconds
    while time.time() < end:
        lat.append(ask(c)); time.sleep(0.25)   # 4 req/s: under its 5 req/s
    return lat

noisy_ok, noisy_failed = [0], [0]
stop = threading.Event()
def noisy():
    c = client("sk-e2e-noisy", "noisy")
    while not stop.is_set():
        try: ask(c); noisy_ok[0] += 1
        except openai.RateLimitError: noisy_failed[0] += 1

alone = quiet_run(3)
threads = [threading.Thread(target=noisy) for _ in range(8)]
for t in threads: t.start()
together = quiet_run(4)
stop.set()
for t in threads: t.join()
p50a, p50t = statistics.median(alone), statistics.median(together)
print(f"quiet alone:      {len(alone)} requests, p50 {p50a:.1f} ms, max {max(alone):.1f} ms")
print(f"quiet with noisy: {len(together)} requests, p50 {p50t:.1f} ms, max {max(together):.1f} ms, 429s {statuses['quiet'].count(429)}")
print(f"noisy (8 threads, SDK retries): {noisy_ok[0]} completed, {statuses['noisy'].count(429)} 429s retried or given up, "
      f"{noisy_failed[0]} gave up after retries")
ok = statuses["quiet"].count(429) == 0 and statuses["noisy"].count(429) > 0 and noisy_ok[0] > 0 and p50t < p50a + 50
print("RESULT", "ok" if ok else "fail")
PY
sed 's/^/  /' "$WORK/sdk.txt"
grep -q '^RESULT ok' "$WORK/sdk.txt"; check "quiet key unaffected (no 429s, p50 within 50 ms of alone); noisy key's 429s retried by the SDK" $?

# 3. wrk for 10 s (per-key limit: most answers are 429s; the gateway must stay up).
echo "wrk:"
wrk -t1 -c16 -d10s -H 'Authorization: Bearer sk-e2e-wrk' "$URL/v1/models" > "$WORK/wrk.txt" 2>&1
grep -E 'Requests/sec|Non-2xx|Latency' "$WORK/wrk.txt" | sed 's/^/  /'
rps=$(awk '/Requests\/sec/ {print int($2)}' "$WORK/wrk.txt")
[[ ${rps:-0} -gt 100 ]]; check "wrk 10 s: ${rps:-0} requests/s answered" $?
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")
# Read whole before searching: `grep -q` stops at the first match, and curl, cut off, would
# fail the pipeline (exit 23) under pipefail.
metrics=$(curl -s "$URL/metrics")
[[ $code == 200 ]] && grep -q 'bucketscope_gateway_limited_total{key="noisy"}' <<< "$metrics"
check "still healthy after wrk; /metrics names keys by name" $?

# Graceful stop: SIGTERM, exit 0.
kill -TERM "$SERVER_PID"
status=0; wait "$SERVER_PID" || status=$?
SERVER_PID=""
[[ $status == 0 ]]; check "SIGTERM → graceful exit 0" $?
grep -c '429 limited' "$WORK/serve.log" | sed 's/^/  limited requests logged: /'

if [[ $FAILURES -gt 0 ]]; then echo "e2e-serve: $FAILURES check(s) failed"; exit 1; fi
echo "e2e-serve: all checks passed"
