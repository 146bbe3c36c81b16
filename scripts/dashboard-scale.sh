#!/usr/bin/env bash
# The dashboard at scale: 10,000 keys (9,980 paying users + 20 scrapers in two tenants), 20 fps,
# ×100 speed, in tmux at 120×40. Reports the process's CPU % of one core (from /proc utime+stime),
# how long a key press takes to show (`?` until the help is drawn, tmux polling every 5 ms
# included), and resident memory at each sample time.
#   scripts/dashboard-scale.sh [minutes] [keying] [bucketscope]
#   (defaults: 1 minute, per-user, .build/release/bucketscope; keying: per-user | hierarchical)
# Flat view too: after the first measurement `T` turns the tree off (10,000 rows sorted by name).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-1}
keying=${2:-per-user}
bin=${3:-.build/release/bucketscope}
command -v tmux >/dev/null || { echo "dashboard-scale: needs tmux" >&2; exit 2; }
[[ -x $bin ]] || { echo "dashboard-scale: build first (swift build -c release)" >&2; exit 2; }
scenario=$(mktemp --suffix .toml)
s=dashscale$$
# Under set -e a failing command ends the trap too: the session is usually gone already (q).
trap 'tmux kill-session -t $s 2>/dev/null || true; rm -f "$scenario"' EXIT
cat > "$scenario" <<TOML
name = "scale-10k"
description = "9,980 paying users at 0.1 req/s and 20 scrapers, two tenants"
keying = "$keying"
[limits]
capacity = 10
refill = 1
[limits.per_tenant]
capacity = 2000
refill = 1500
[upstream]
name = "provider"
rpm = 100000
[[clients]]
name = "app"
group = "paying"
tenant = "acme"
count = 9980
arrival = "poisson"
rate = 0.1
[[clients]]
name = "scraper"
group = "scrapers"
tenant = "bigco"
count = 20
arrival = "closed-loop"
concurrency = 5
TOML
tmux new-session -d -s $s -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 $bin --scenario $scenario --fps 20 --speed 100"
sleep 3
pid=$(pgrep -n -f -- "--scenario $scenario") || { echo "dashboard-scale: bucketscope did not start" >&2; tmux capture-pane -p -t $s >&2; exit 1; }
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$pid/status"; }
# CPU % of one core over `secs` seconds.
cpu_percent() {
  local secs=$1 a b
  a=$(cpu); sleep "$secs"; b=$(cpu)
  echo $(( (b - a) * 100 * 100 / (ticks * secs) )) | sed -E 's/([0-9]*)([0-9]{2})$/\1.\2/; s/^\./0./'
}
latency() {
  local start
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    tmux send-keys -t $s '?'
    until tmux capture-pane -p -t $s | grep -q "any key closes"; do sleep 0.005; done
    printf "%d " $(( ($(date +%s%N) - start) / 1000000 ))
    tmux send-keys -t $s x
    while tmux capture-pane -p -t $s | grep -q "any key closes"; do sleep 0.005; done
    sleep 0.3
  done
}
echo "keys: $(tmux capture-pane -p -t $s | grep -o 'keying [a-z-]*' | head -1), 10,000 users; 20 fps, ×100"
echo "tree view:  CPU $(cpu_percent 10) % of one core; key press shown after (ms): $(latency); RSS $(rss)"
tmux send-keys -t $s T
sleep 2
echo "flat view:  CPU $(cpu_percent 10) % of one core; key press shown after (ms): $(latency); RSS $(rss)"
tmux send-keys -t $s T
for ((m = 1; m <= minutes; m++)); do
  sleep 50
  echo "minute $m: CPU $(cpu_percent 10) % (last 10 s); RSS $(rss)"
done
tmux send-keys -t $s q
sleep 1
