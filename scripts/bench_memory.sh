#!/usr/bin/env bash
# Peak memory of `hinge analyze` with its default outputs (frames.csv, summary.json, reps.csv,
# annotated.mp4, report.html) per input resolution, against the 300 MB target (issue 14).
# The clips are made here by FFmpeg from a bundled 640x480 sample (no downloaded media): the
# sample itself, 1080p and 4K (scaled, pillarboxed to 16:9) as H.264, and 4K as HEVC.
# Peak RSS is the process's VmHWM, read from /proc while it runs; the `ffmpeg` child that
# encodes annotated.mp4 is a separate process, its peak printed beside. A benchmark, not a test.
#   usage: scripts/bench_memory.sh [SAMPLE.mp4]   (LIMIT_MB=300 by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAMPLE=${1:-samples/dev/dev_01_good_side_facing_left.mp4}
LIMIT_MB=${LIMIT_MB:-300}
HINGE=${HINGE:-target/release/hinge}
CLIPS=${CLIPS_DIR:-.work/bench_memory}
[ -x "$HINGE" ] || { echo "[bench-memory] $HINGE not built (make setup)" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "[bench-memory] ffmpeg not found" >&2; exit 2; }
mkdir -p "$CLIPS"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

make_clip() { # name width height codec-args...
  local name=$1 w=$2 h=$3; shift 3
  local f="$CLIPS/$name.mp4"
  if [ ! -s "$f" ] || [ "$f" -ot "$SAMPLE" ]; then
    echo "[bench-memory] making $f" >&2
    local sw=$((h * 4 / 3))
    ffmpeg -hide_banner -loglevel error -y -i "$SAMPLE" \
      -vf "scale=${sw}:${h}:flags=bicubic,pad=${w}:${h}:$(((w - sw) / 2)):0" "$@" -pix_fmt yuv420p -an "$f"
  fi
  echo "$f"
}
declare -a ROWS=("480p-h264 $SAMPLE")
ROWS+=("1080p-h264 $(make_clip 1080p_h264 1920 1080 -c:v libx264 -preset veryfast -crf 20)")
ROWS+=("4k-h264 $(make_clip 4k_h264 3840 2160 -c:v libx264 -preset veryfast -crf 20)")
ROWS+=("4k-hevc $(make_clip 4k_hevc 3840 2160 -c:v libx265 -preset veryfast -crf 24 -tag:v hvc1 -x265-params log-level=error)")

echo "[bench-memory] machine: $(nproc) cores, $(date -u +%F); hinge analyze VIDEO --out DIR (all default outputs)"
printf '%-11s %-10s %7s %14s %16s %9s  %s\n' input size frames "peak RSS MiB" "encoder MiB" "wall s" "within ${LIMIT_MB} MB"
worst=0
for row in "${ROWS[@]}"; do
  read -r label clip <<<"$row"
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$clip")
  frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
  read -r hwm enc wall rc < <(python3 - "$HINGE" "$clip" "$OUT/$label" <<'PY'
import os, subprocess, sys, time
hinge, clip, out = sys.argv[1:]
def hwm_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
def children(pid):
    try:
        return [int(c) for t in os.listdir(f"/proc/{pid}/task") for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
    except OSError:
        return []
t0 = time.monotonic()
p = subprocess.Popen([hinge, "analyze", clip, "--out", out, "--quiet"])
peak = enc = 0
while p.poll() is None:
    peak = max(peak, hwm_kb(p.pid))
    for c in children(p.pid):
        try:  # a child between fork and exec still shows hinge's own figures
            if open(f"/proc/{c}/comm").read().strip() == "ffmpeg":
                enc = max(enc, hwm_kb(c))
        except OSError:
            pass
    time.sleep(0.02)
print(f"{peak / 1024:.0f} {enc / 1024:.0f} {time.monotonic() - t0:.1f} {p.returncode}")
PY
)
  [ "$rc" = 0 ] || { echo "[bench-memory] hinge analyze $clip failed (exit $rc)" >&2; exit 1; }
  # the limit is in MB (10^6 bytes), VmHWM in KiB
  mb=$((hwm * 1048576 / 1000000))
  ok=yes; [ "$mb" -le "$LIMIT_MB" ] || ok=NO
  [ "$mb" -le "$worst" ] || worst=$mb
  printf '%-11s %-10s %7s %14s %16s %9s  %s (%s MB)\n' "$label" "$size" "$frames" "$hwm" "$enc" "$wall" "$ok" "$mb"
done
echo "[bench-memory] worst peak: $worst MB (target ≤ $LIMIT_MB MB)"
