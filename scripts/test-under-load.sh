#!/usr/bin/env bash
# Runs the whole test suite N times in a row while two CPU hogs run (a 2-core machine is then
# fully loaded before the tests add their own work), one line per run: exit status, time, load,
# and the names of the failing tests. Build first (swift build --build-tests); the runs use
# --skip-build. Tests that need Redis read BUCKETSCOPE_REDIS_URL (scripts/redis-test-server.sh).
#
#   scripts/test-under-load.sh 20 /tmp/under-load.txt
set -u
cd "$(dirname "$0")/.."
n=${1:-20}
out=${2:-/tmp/bucketscope-under-load.txt}
timeout $((n * 900)) sh -c 'while :; do :; done' & hog1=$!
timeout $((n * 900)) sh -c 'while :; do :; done' & hog2=$!
trap 'kill $hog1 $hog2 2>/dev/null' EXIT
echo "start $(date -u +%T) runs=$n" >>"$out"
for i in $(seq 1 "$n"); do
    log="${out%.txt}-run-$i.log"
    start=$(date +%s)
    timeout 1500 swift test --skip-build >"$log" 2>&1
    rc=$?
    fails=$(grep -aE "✘ Test .*(failed|recorded an issue)" "$log" | sed -E 's/.*✘ Test (.*) (recorded an issue|failed).*/\1/' | sort -u | tr '\n' ';')
    summary=$(grep -aE "Test run with [0-9]+ tests" "$log" | tail -1 | sed 's/^.*Test run/Test run/')
    echo "run $i rc=$rc $(($(date +%s) - start))s load=$(cut -d' ' -f1 /proc/loadavg) | $summary | fails: $fails" >>"$out"
done
echo "end $(date -u +%T)" >>"$out"
