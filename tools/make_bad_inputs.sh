#!/usr/bin/env bash
# Builds a corpus of bad and unusual inputs — what a clinic may feed hinge — into DIR,
# from the clips of samples/dev (FFmpeg and Python only; nothing is downloaded).
#
# Usage: tools/make_bad_inputs.sh DIR
#
# Every case is short (about 1.5 s) so that the whole corpus is made in well under a
# minute. A case whose encoder the local FFmpeg lacks is skipped with a note on stderr
# ("skipped: ..."). tests/bad_inputs.rs runs hinge analyze and hinge batch on every file.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$1"
mkdir -p "$OUT"
A="$REPO/samples/dev/dev_01_good_side_facing_left.mp4"
B="$REPO/samples/dev/dev_02_good_side_facing_right.mp4"
T=1.5 # seconds per clip

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
ENCODERS="$(ffmpeg -hide_banner -encoders 2>/dev/null)"
has_encoder() { grep -qE "^ [A-Z.]{6} $1 " <<<"$ENCODERS"; }
skip() { echo "skipped: $1" >&2; }

# the base clip: the first seconds of a dev sample, H.264 in MP4 (a rep starts inside)
BASE="$OUT/base_h264.mp4"
ff -t "$T" -i "$A" -an -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$BASE"

# --- broken files ---------------------------------------------------------------------
: >"$OUT/zero_bytes.mp4"
python3 - "$OUT" "$BASE" <<'EOF'
import sys, pathlib
out, base = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(out / "text_renamed.mp4").write_text("patient notes, not a video\n" * 100)
data = base.read_bytes()
(out / "truncated_half.mp4").write_bytes(data[: len(data) // 2])
damaged = bytearray(data)
at = len(data) // 3
for i in range(4096):
    damaged[at + i] = 0x5A ^ ((i * 37) & 0xFF)
(out / "damaged_middle.mp4").write_bytes(bytes(damaged))
EOF

# --- orientation ----------------------------------------------------------------------
for r in 90 180 270; do
  # the display-rotation tag only (FFmpeg 5 writes a display matrix from the legacy `rotate`
  # metadata on a copy; hinge turns the frames, and the person is then not upright)
  ff -i "$BASE" -c copy -metadata:s:v:0 rotate="$r" "$OUT/rotation_tag_$r.mp4"
done
ff -i "$BASE" -vf hflip -c:v libx264 -preset ultrafast "$OUT/mirrored_hflip.mp4"

# --- codecs and pixel formats ---------------------------------------------------------
if has_encoder libx265; then
  ff -i "$BASE" -c:v libx265 -preset ultrafast -tag:v hvc1 -x265-params log-level=error "$OUT/hevc.mp4"
else skip "HEVC (no libx265 encoder)"; fi
if has_encoder libvpx-vp9; then
  ff -i "$BASE" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 500k "$OUT/vp9.webm"
else skip "VP9 (no libvpx-vp9 encoder)"; fi
if has_encoder libsvtav1; then
  SVT_LOG=1 ff -i "$BASE" -c:v libsvtav1 -preset 12 "$OUT/av1.mp4"
elif has_encoder libaom-av1; then
  ff -i "$BASE" -c:v libaom-av1 -cpu-used 8 -row-mt 1 -b:v 300k "$OUT/av1.mp4"
else skip "AV1 (no libsvtav1 or libaom-av1 encoder)"; fi
if has_encoder prores_ks; then
  ff -i "$BASE" -c:v prores_ks -profile:v 0 "$OUT/prores.mov"
else skip "ProRes (no prores_ks encoder)"; fi
ff -i "$BASE" -c:v mjpeg -q:v 5 -pix_fmt yuvj420p "$OUT/mjpeg.avi"
ff -i "$BASE" -c:v libx264 -preset ultrafast -pix_fmt yuv420p10le "$OUT/h264_10bit.mp4"
# odd size: 4:4:4 chroma (4:2:0 needs even sizes)
ff -i "$BASE" -vf scale=333:251 -c:v libx264 -preset ultrafast -pix_fmt yuv444p "$OUT/odd_size_333x251.mp4"
ff -t 1 -i "$BASE" -vf scale=3840:2160 -c:v libx264 -preset ultrafast "$OUT/upscaled_4k.mp4"
# variable frame rate, as phones write it: after the first half second every third frame is
# dropped, so frames come 33 and 67 ms apart (about 22 fps) — never two missing in a row
ff -i "$BASE" -vf "select='lt(n\,15)+mod(n\,3)'" -fps_mode vfr -c:v libx264 -preset ultrafast \
  "$OUT/vfr.mp4"

# --- content --------------------------------------------------------------------------
ff -i "$BASE" -frames:v 1 -c:v libx264 -preset ultrafast "$OUT/one_frame.mp4"
ff -f lavfi -i "color=c=0x556b2f:s=640x480:r=30:d=$T" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  "$OUT/no_person_colour.mp4"
# two people side by side
ff -t "$T" -i "$A" -t "$T" -i "$B" -filter_complex "[0:v][1:v]hstack=inputs=2,scale=960:360" -an \
  -c:v libx264 -preset ultrafast "$OUT/two_people.mp4"
ff -f lavfi -i "sine=frequency=440:duration=$T" -c:a aac "$OUT/audio_only.mp4"
ff -ss 0.5 -i "$BASE" -frames:v 1 "$OUT/still.png"
ff -ss 0.5 -i "$BASE" -frames:v 1 -q:v 3 "$OUT/still.jpg"

# --- names and file-system oddities ---------------------------------------------------
cp "$BASE" "$OUT/clínica ü — séance 2.mp4"
mkdir -p "$OUT/folder_named_like_a.mp4"
ln -sfn "does_not_exist.mp4" "$OUT/dangling_link.mp4"
