#!/usr/bin/env bash
# Live-mode benchmark: a 640x480 30 fps source paced in real time (the sample clip looped),
# processed by `hinge live --no-window` for each model. Prints processed frames/s, dropped
# frames, capture-to-feedback latency (p50/p95/max) and resident memory early vs at the end,
# plus latency p95 in the first and last minute (no growth over the run).
#   usage: scripts/bench_live.sh [SECONDS=300] [MODELS="lite full heavy"]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_RUN=${1:-300}
MODELS=${2:-"lite full heavy"}
CLIP=samples/dev/dev_01_good_side_facing_left.mp4
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "[bench-live] building a ${SECONDS_RUN} s 640x480 30 fps source by looping $CLIP (stream copy)"
ffmpeg -v error -stream_loop -1 -i "$CLIP" -t "$SECONDS_RUN" -c copy "$WORK/source.mp4"
printf '%-6s %8s %8s %8s %8s %8s %12s %12s %10s %10s\n' model fps dropped p50_ms p95_ms max_ms p95_first_min p95_last_min rss_10s_MB rss_end_MB
for m in $MODELS; do
  if [ "$m" = heavy ] && [ ! -f models/pose_landmark_heavy.onnx ]; then echo "heavy: not built (make models-heavy)"; continue; fi
  target/release/hinge live --no-window --realtime -q --model "$m" --source "$WORK/source.mp4" --events "$WORK/$m.jsonl" &
  pid=$!
  rss10=""; rss_last=""
  start=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$r" ] && rss_last=$r
    [ -z "$rss10" ] && [ $(( $(date +%s) - start )) -ge 10 ] && rss10=$r
    sleep 2
  done
  wait "$pid"
  python3 - "$WORK/$m.jsonl" "$m" "${rss10:-0}" "${rss_last:-0}" "$SECONDS_RUN" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
s = events[-1]
status = [e for e in events if e["event"] == "status"]
# each status line carries the last second's latency: compare the first and the last minute
def p95_mean(lines):
    v = [e["latency_ms_last_s"]["p95"] for e in lines]
    return sum(v) / max(len(v), 1)
t_end = status[-1]["time_s"]
first = {"latency_ms": {"p95": p95_mean([e for e in status if e["time_s"] <= 60])}}
last = {"latency_ms": {"p95": p95_mean([e for e in status if e["time_s"] >= t_end - 60])}}
dur = float(sys.argv[5])
fps = s["frames_processed"] / dur
print(f"{sys.argv[2]:<6} {fps:8.1f} {s['frames_dropped']:8d} {s['latency_ms']['p50']:8.1f} {s['latency_ms']['p95']:8.1f} {s['latency_ms']['max']:8.1f} "
      f"{first['latency_ms']['p95']:12.1f} {last['latency_ms']['p95']:12.1f} {int(sys.argv[3])/1024:10.0f} {int(sys.argv[4])/1024:10.0f}")
PY
done
