#!/usr/bin/env bash
# Starts or stops a throwaway redis-server for the SharedStore tests and benchmarks:
# loopback only, a free port, no persistence, never the system service or port 6379.
#
#   eval "$(scripts/redis-test-server.sh start)"   # exports BUCKETSCOPE_REDIS_URL, REDIS_TEST_PID
#   swift test --filter SharedStoreTests
#   scripts/redis-test-server.sh stop              # stops the server started above
set -euo pipefail

state="${TMPDIR:-/tmp}/bucketscope-redis-test.$(id -u)"

case "${1:-}" in
start)
    command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install redis-server" >&2; exit 2; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --protected-mode yes --loglevel warning >"$state.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "redis-server did not start (see $state.log)" >&2; kill "$pid" 2>/dev/null; exit 1; }
    echo "$pid $port" >"$state"
    echo "export BUCKETSCOPE_REDIS_URL=redis://127.0.0.1:$port REDIS_TEST_PID=$pid"
    ;;
stop)
    [ -f "$state" ] || { echo "no test redis-server recorded in $state" >&2; exit 0; }
    read -r pid port <"$state"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$state"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
