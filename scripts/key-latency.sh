#!/usr/bin/env bash
# How long the live dashboard takes to answer a key press while 10,000 tasks wait on one bucket:
# runs `bucketscope --live --scenario scripts/live-10k.toml` in tmux, waits 5 s, then presses `?`
# five times and reports when the help screen appears (tmux polling every 5 ms included).
#   scripts/key-latency.sh [path/to/bucketscope]     (default: .build/release/bucketscope)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/bucketscope}
command -v tmux >/dev/null || { echo "key-latency: needs tmux" >&2; exit 2; }
[[ -x $bin ]] || { echo "key-latency: build first (swift build -c release)" >&2; exit 2; }
s=keylatency$$
trap 'tmux kill-session -t $s 2>/dev/null' EXIT
tmux new-session -d -s $s -x 120 -y 40 "env TERM=xterm-256color LANG=C.UTF-8 $bin --live --scenario scripts/live-10k.toml"
sleep 5
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  tmux send-keys -t $s '?'
  until tmux capture-pane -p -t $s | grep -q "any key closes"; do sleep 0.005; done
  echo "help shown after $(( ($(date +%s%N) - start) / 1000000 )) ms"
  tmux send-keys -t $s x
  while tmux capture-pane -p -t $s | grep -q "any key closes"; do sleep 0.005; done
  sleep 0.5
done
tmux send-keys -t $s q
sleep 1
