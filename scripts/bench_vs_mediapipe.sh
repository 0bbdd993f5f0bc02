#!/usr/bin/env bash
# hinge against MediaPipe Pose on the same clips, on this machine, in one run:
#   - `hinge bench` per model: end-to-end analyze with its default outputs, and ONNX Runtime
#     inference alone on the same inputs (the floor), plus peak RSS;
#   - MediaPipe Pose 0.10.14 (model_complexity 1 = the same full model, smooth_landmarks on)
#     on the same decoded frames, in a throwaway virtualenv (skipped if it cannot be installed).
# The full model and MediaPipe run in alternating rounds (ROUNDS, default 3) so that both see the
# same state of the machine; the table takes the best run of each, and each round's ratio is printed.
# Prints a table with ratios. A benchmark, not a test: the machine is shared and noisy.
#   usage: scripts/bench_vs_mediapipe.sh [CLIP...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLIPS=("$@")
[ ${#CLIPS[@]} -gt 0 ] || CLIPS=(samples/dev/dev_01_good_side_facing_left.mp4 samples/dev/dev_10_squat_side_facing_left.mp4 samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4)
MPVENV=${MPVENV:-/tmp/mpvenv}
ROUNDS=${ROUNDS:-3}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "[bench] ROUNDS must be a positive whole number, not '$ROUNDS'" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "[bench] machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(date -u +%F)"
MODELS=(lite full)
[ -f models/pose_landmark_heavy.onnx ] && MODELS+=(heavy) || echo "[bench] heavy: not built (make models-heavy), skipped"
for m in "${MODELS[@]}"; do
  [ "$m" = full ] && continue # timed below, in rounds alternating with MediaPipe
  echo "[bench] hinge bench --model $m --repeat 2"
  target/release/hinge bench --model "$m" --repeat 2 "${CLIPS[@]}" | tee "$OUT/hinge-$m.txt"
done

mp_ok=0
if [[ -x "$MPVENV/bin/python" ]] && "$MPVENV/bin/python" -c "import mediapipe" 2>/dev/null; then
  mp_ok=1
else
  echo "[bench] installing mediapipe==0.10.14 into a throwaway venv $MPVENV"
  if python3 -m venv "$MPVENV" && "$MPVENV/bin/pip" install --quiet "mediapipe==0.10.14" "numpy<2" "opencv-contrib-python==4.10.0.84"; then
    mp_ok=1
  else
    echo "[bench] mediapipe could not be installed: comparison skipped"
  fi
fi
# The full model against MediaPipe in alternating rounds, so that both see the same state of a
# shared machine whose speed drifts by ±15% over minutes; each round's ratio is kept.
: > "$OUT/hinge-full.txt"
for round in $(seq "$ROUNDS"); do
  echo "[bench] round $round/$ROUNDS: hinge bench --model full"
  target/release/hinge bench --model full "${CLIPS[@]}" | tee "$OUT/hinge-full-$round.txt"
  cat "$OUT/hinge-full-$round.txt" >> "$OUT/hinge-full.txt"
  if [ $mp_ok = 1 ]; then
    echo "[bench] round $round/$ROUNDS: MediaPipe Pose 0.10.14, model_complexity 1, smooth_landmarks on"
    "$MPVENV/bin/python" tools/bench_mediapipe.py --complexity 1 "${CLIPS[@]}" > "$OUT/mp-$round.txt"
  fi
done

python3 - "$OUT" "$mp_ok" "$ROUNDS" "${MODELS[@]}" <<'PY'
import os, statistics, sys
out, mp_ok, rounds, models = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4:]

def bench_rows(path):
    """(clip, frames, e2e fps, inference-alone fps, e2e/alone, rendering ms/frame) of a `hinge bench` output."""
    for line in open(path):
        p = line.split()
        if len(p) > 5 and p[0].endswith(".mp4"):
            yield p[0], int(p[1]), float(p[2]), float(p[3]), float(p[4]), float(p[-1])

hinge = {}
rss = {}
for m in models:
    path = os.path.join(out, f"hinge-{m}.txt")
    for line in open(path):
        if line.startswith("peak RSS"):
            rss[m] = float(line.split()[2])
    for clip, *row in bench_rows(path):
        # the best run of each clip (the full model has one per round)
        if (m, clip) not in hinge or row[1] > hinge[(m, clip)][1]:
            hinge[(m, clip)] = tuple(row)
mp = {}
ratios = {}  # clip -> hinge/MediaPipe of each round
if mp_ok:
    for r in range(1, rounds + 1):
        e2e_round = {clip: e2e for clip, _, e2e, *_ in bench_rows(os.path.join(out, f"hinge-full-{r}.txt"))}
        for line in open(os.path.join(out, f"mp-{r}.txt")):
            clip, n, dec, inf = line.split()
            name = os.path.basename(clip)
            fps_inf = int(n) / float(inf)
            fps_all = int(n) / (float(dec) + float(inf))
            if name not in mp or fps_all > mp[name][1]:
                mp[name] = (fps_inf, fps_all)
            if name in e2e_round:
                ratios.setdefault(name, []).append(e2e_round[name] / fps_all)
print()
print(f"{'clip':<40} {'model':<6} {'hinge e2e fps':>13} {'ORT alone fps':>13} {'e2e/alone':>9} {'MP fps (dec+inf)':>16} {'hinge/MP':>8} {'peak RSS MiB':>12} {'w/o video e2e/alone':>19}")
for (m, clip), (n, e2e, inf, ratio, render_ms) in sorted(hinge.items(), key=lambda x: (x[0][1], x[0][0])):
    mpf = mp.get(clip)
    mp_col = f"{mpf[1]:16.1f}" if mpf and m == "full" else f"{'':>16}"
    vs = f"{e2e / mpf[1]:8.2f}" if mpf and m == "full" else f"{'':>8}"
    # the same run without the rendering pass (annotated.mp4 + report.html key frames)
    no_video = (1000.0 / e2e - render_ms) * inf / 1000.0
    print(f"{clip:<40} {m:<6} {e2e:13.1f} {inf:13.1f} {ratio:9.2f} {mp_col} {vs} {rss.get(m, float('nan')):12.0f} {no_video:19.2f}")
if ratios:
    print(f"\nhinge/MP per round ({rounds} rounds, full model, each round's hinge and MediaPipe runs back to back):")
    for clip, rs in sorted(ratios.items()):
        print(f"  {clip:<40} " + " ".join(f"{x:.2f}" for x in rs) + f"   min {min(rs):.2f}  median {statistics.median(rs):.2f}")
if mp:
    print("\nMediaPipe inference only (frames already decoded), frames/s: " + ", ".join(f"{k} {v[0]:.1f}" for k, v in sorted(mp.items())))
PY
