#!/usr/bin/env bash
# Regenerate tests/fixtures/mediapipe/*.csv: reference landmarks from the official
# MediaPipe 0.10.14 legacy Pose solution (full model), for the BlazePose agreement test.
#
# Usage: tools/make_mediapipe_fixtures.sh        (from anywhere; paths are repo-relative)
#   MPVENV=/some/dir overrides the venv location (default /tmp/mpvenv, outside the repo).
#
# The venv is created only if missing (idempotent). Needs PyPI access the first time.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MPVENV="${MPVENV:-/tmp/mpvenv}"
OUT="$REPO/tests/fixtures/mediapipe"

# Pins: mediapipe 0.10.14 is built against NumPy 1.x; opencv-contrib-python 4.10.0.84 is the
# last 4.x wheel for NumPy 1.x and applies the rotation tag of phone videos.
PKGS=("mediapipe==0.10.14" "numpy<2" "opencv-contrib-python==4.10.0.84")

CLIPS=(
  samples/dev/dev_01_good_side_facing_left.mp4
  samples/dev/dev_03_good_oblique_front_left_35.mp4
  samples/dev/dev_04_rounded_lumbar_side_facing_right.mp4
  samples/dev/dev_10_squat_side_facing_left.mp4
  samples/dev/dev_12_idle_side_facing_right.mp4
  samples/dev_sessions/devs_02_phone_rotated.mp4
  tests/fixtures/real/pose2sim_single_cam01_portrait60.mp4
)

if [[ -x "$MPVENV/bin/python" ]] && "$MPVENV/bin/python" -c "import mediapipe, cv2" 2>/dev/null; then
  echo "== using existing venv $MPVENV"
else
  echo "== creating venv $MPVENV and installing ${PKGS[*]}"
  python3 -m venv "$MPVENV"
  "$MPVENV/bin/pip" install --quiet "${PKGS[@]}"
fi
echo "== versions: $("$MPVENV/bin/python" -c 'import mediapipe, numpy, cv2, sys; print(f"python {sys.version.split()[0]}, mediapipe {mediapipe.__version__}, numpy {numpy.__version__}, opencv {cv2.__version__}")')"

mkdir -p "$OUT"
cd "$REPO"
for clip in "${CLIPS[@]}"; do
  name="$(basename "$clip" .mp4)"
  echo "== $clip -> $name.smooth.csv"
  "$MPVENV/bin/python" tools/mediapipe_reference.py "$clip" "$OUT/$name.smooth.csv" --complexity 1
  echo "== $clip -> $name.raw.csv"
  "$MPVENV/bin/python" tools/mediapipe_reference.py "$clip" "$OUT/$name.raw.csv" --complexity 1 --no-smooth
done
echo "== done: $OUT"
