#!/usr/bin/env bash
# Reproducibly rebuild the BlazePose ONNX models in models/ from registry packages only:
#   npm   @mediapipe/pose@0.5.1675469404 (Apache-2.0; tarball sha256 pinned below)
#           -> pose_landmark_{lite,full,heavy}.tflite + pose_detection.tflite (inside the .data bundle)
#   PyPI  tf2onnx + tensorflow-cpu (+ onnx, numpy, protobuf), all pinned, in a private venv
# Each output is checked against models/SHA256SUMS and only then written to OUT_DIR.
#
# Usage: bash tools/models/convert.sh [OUT_DIR] [options]
#   OUT_DIR        where the .onnx files go (default: <repo>/models)
#   --only LIST    comma-separated subset of: detector, lite, full, heavy   (default: all four)
#   --work DIR     work dir for venv, npm tarball and intermediates
#                  (default: $HINGE_MODELS_WORK or <repo>/.work/models, git-ignored)
#   --verify       also compare ONNX vs TFLite outputs (adds onnxruntime + ai-edge-litert to the venv)
#   --force        reconvert even when OUT_DIR already holds a file with the expected sha256
#   -h, --help
# Examples:
#   bash tools/models/convert.sh models --only heavy     # what `make models-heavy` runs
#   bash tools/models/convert.sh /tmp/onnx --verify      # rebuild all four elsewhere and check them
#
# Idempotent: files already present with the right sha256 are skipped (no venv needed then);
# the venv, npm tarball and extracted .tflite files are reused from the work dir.
# A converted file whose sha256 differs from models/SHA256SUMS is NOT written to OUT_DIR:
# it stays in WORK/onnx/ and the script exits 1.
# Needs: python3 (tested with CPython 3.11.7; set PYTHON=... to choose), npm, sha256sum, tar.
# First run: ~1 min on 2 cores, builds a ~1.7 GB venv (tensorflow-cpu); later runs reuse it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SUMS="$REPO/models/SHA256SUMS"

NPM_PKG="@mediapipe/pose@0.5.1675469404"
NPM_TGZ="mediapipe-pose-0.5.1675469404.tgz"
NPM_TGZ_SHA256="8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84"
OPSET=17
PY="${PYTHON:-python3}"

# Direct pins (the versions that produced models/SHA256SUMS).
CONVERT_PINS=(tf2onnx==1.17.0 tensorflow-cpu==2.21.0 onnx==1.23.2 numpy==2.4.6 protobuf==7.36.2)
VERIFY_PINS=(onnxruntime==1.32.0 ai-edge-litert==2.3.0)
# Full dependency set of the tested venv (`pip freeze` with --verify, CPython 3.11.7, x86-64 Linux),
# passed as pip -c constraints so transitive versions cannot drift.
CONSTRAINTS='absl-py==2.5.1
ai-edge-litert==2.3.0
astunparse==1.6.3
backports.strenum==1.2.8
certifi==2026.10.18
charset-normalizer==3.5.2
flatbuffers==25.12.19
gast==0.7.0
google-pasta==0.2.0
grpcio==1.85.1
h5py==3.14.0
idna==3.20
keras==3.15.1
libclang==18.1.1
markdown-it-py==4.3.0
mdurl==0.1.2
ml_dtypes==0.6.0
namex==0.1.0
numpy==2.4.6
onnx==1.23.2
onnxruntime==1.32.0
opt_einsum==3.4.0
optree==0.20.0
packaging==26.3
protobuf==7.36.2
Pygments==2.21.0
requests==2.34.2
rich==15.0.0
six==1.17.0
tensorflow_cpu==2.21.0
termcolor==3.3.0
tf2onnx==1.17.0
tqdm==4.70.1
typing_extensions==4.16.0
urllib3==2.8.0
wrapt==2.5.2'

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "convert.sh: error: $*" >&2; exit 2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fmt_s() { printf '%d.%01ds' $(( $1 / 1000 )) $(( ($1 % 1000) / 100 )); }

OUT="" ONLY="detector,lite,full,heavy" WORK="${HINGE_MODELS_WORK:-$REPO/.work/models}" VERIFY=0 FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || die "--only needs a value"; ONLY="$2"; shift 2 ;;
    --only=*) ONLY="${1#*=}"; shift ;;
    --work) [ $# -ge 2 ] || die "--work needs a value"; WORK="$2"; shift 2 ;;
    --work=*) WORK="${1#*=}"; shift ;;
    --verify) VERIFY=1; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$OUT" ] || die "more than one OUT_DIR given"; OUT="$1"; shift ;;
  esac
done
OUT="${OUT:-$REPO/models}"
[ -f "$SUMS" ] || die "missing $SUMS"

MODELS=()
IFS=',' read -r -a _sel <<< "$ONLY"
for s in "${_sel[@]}"; do
  case "$s" in
    detector|pose_detection) m=pose_detection ;;
    lite|full|heavy) m=pose_landmark_$s ;;
    pose_landmark_lite|pose_landmark_full|pose_landmark_heavy) m=$s ;;
    all) MODELS=(pose_detection pose_landmark_lite pose_landmark_full pose_landmark_heavy); continue ;;
    *) die "unknown model '$s' in --only (use detector, lite, full, heavy)" ;;
  esac
  [[ " ${MODELS[*]:-} " == *" $m "* ]] || MODELS+=("$m")
done
[ ${#MODELS[@]} -gt 0 ] || die "--only selected nothing"

expected_sha() { awk -v f="$1.onnx" '$2 == f || $2 == "*"f {print $1}' "$SUMS"; }
file_sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$OUT" "$WORK"
OUT="$(cd "$OUT" && pwd)"; WORK="$(cd "$WORK" && pwd)"
echo "convert.sh: models=${MODELS[*]}"
echo "            out=$OUT  work=$WORK  verify=$VERIFY  force=$FORCE"
T_ALL=$(now_ms)

# ---- 0. which outputs are already up to date?
TODO=()
for m in "${MODELS[@]}"; do
  exp="$(expected_sha "$m")"; [ -n "$exp" ] || die "$m.onnx has no entry in $SUMS"
  if [ "$FORCE" = 0 ] && [ -f "$OUT/$m.onnx" ] && [ "$(file_sha "$OUT/$m.onnx")" = "$exp" ]; then
    echo "== $m.onnx already present with the expected sha256: skip"
  else
    TODO+=("$m")
  fi
done
if [ ${#TODO[@]} -eq 0 ] && [ "$VERIFY" = 0 ]; then
  echo "== nothing to do"; exit 0
fi

# ---- 1. venv
VENV="$WORK/venv"; VPY="$VENV/bin/python"
PINS=("${CONVERT_PINS[@]}"); [ "$VERIFY" = 1 ] && PINS+=("${VERIFY_PINS[@]}")
STAMP="$(printf '%s\n' "${PINS[@]}" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)"
echo "== 1. venv $VENV"
T=$(now_ms)
if [ ! -x "$VPY" ]; then
  echo "   creating with $("$PY" --version 2>&1) ($PY)"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$VENV/.hinge-pins" 2>/dev/null)" != "$STAMP" ]; then
  printf '%s\n' "$CONSTRAINTS" > "$WORK/constraints.txt"
  echo "   pip install ${PINS[*]}  (-c $WORK/constraints.txt)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$WORK/constraints.txt" "${PINS[@]}"
  echo "$STAMP" > "$VENV/.hinge-pins"
else
  echo "   reusing (pins unchanged)"
fi
"$VENV/bin/pip" list --disable-pip-version-check 2>/dev/null \
  | grep -iE '^(tf2onnx|tensorflow-cpu|onnx|numpy|protobuf|flatbuffers|onnxruntime|ai-edge-litert) ' \
  | awk '{printf "   %s %s\n", $1, $2}' || true
echo "   ($(fmt_s $(( $(now_ms) - T ))))"

# ---- 2. npm package
echo "== 2. npm $NPM_PKG"
mkdir -p "$WORK/dl"
if [ -f "$WORK/dl/$NPM_TGZ" ] && [ "$(file_sha "$WORK/dl/$NPM_TGZ")" = "$NPM_TGZ_SHA256" ]; then
  echo "   reusing $WORK/dl/$NPM_TGZ"
else
  rm -f "$WORK/dl/$NPM_TGZ"
  echo "   npm pack $NPM_PKG"
  ( cd "$WORK/dl" && npm pack "$NPM_PKG" --silent >/dev/null )
fi
got="$(file_sha "$WORK/dl/$NPM_TGZ")"
[ "$got" = "$NPM_TGZ_SHA256" ] || die "$NPM_TGZ sha256 $got != pinned $NPM_TGZ_SHA256"
echo "   sha256 ok ($NPM_TGZ_SHA256)"
rm -rf "$WORK/package" && tar xzf "$WORK/dl/$NPM_TGZ" -C "$WORK"
"$VPY" "$HERE/extract_tflite.py" "$WORK/package" "$WORK/tflite" "${MODELS[@]}"

# ---- 3./4. convert
FAIL=0
mkdir -p "$WORK/onnx"
for m in "${TODO[@]}"; do
  T=$(now_ms)
  # tf2onnx stores "converted from <path>" in graph.doc_string: convert from inside WORK with the
  # relative path tflite/<name>.tflite so the bytes do not depend on where WORK is.
  src="tflite/$m.tflite"
  if [ "$m" = pose_detection ]; then
    echo "== 3. densify pose_detection.tflite (sparse fp16 weights that tf2onnx cannot read)"
    "$VPY" "$HERE/densify_tflite.py" "$WORK/$src" "$WORK/tflite/pose_detection_dense.tflite" \
      > "$WORK/densify.log" 2>&1 || { tail -20 "$WORK/densify.log"; die "densify failed"; }
    grep -E 'DENSIFY|wrote' "$WORK/densify.log" | sed 's/^/   /'
    src="tflite/pose_detection_dense.tflite"
  fi
  echo "== 4. $m: tf2onnx --tflite (opset $OPSET) + canonicalize names"
  log="$WORK/$m.tf2onnx.log"
  ( cd "$WORK" && "$VPY" -m tf2onnx.convert --tflite "$src" --output "onnx/$m.raw.onnx" --opset $OPSET ) > "$log" 2>&1 \
    || { tail -20 "$log"; die "tf2onnx failed for $m (log: $log)"; }
  "$VPY" "$HERE/canonicalize_onnx.py" "$WORK/onnx/$m.raw.onnx" "$WORK/onnx/$m.onnx"
  rm -f "$WORK/onnx/$m.raw.onnx"
  exp="$(expected_sha "$m")"; got="$(file_sha "$WORK/onnx/$m.onnx")"
  echo "   $(grep -o 'After optimization.*' "$log" || true)"
  if [ "$got" = "$exp" ]; then
    cp "$WORK/onnx/$m.onnx" "$OUT/.$m.onnx.tmp" && mv -f "$OUT/.$m.onnx.tmp" "$OUT/$m.onnx"
    echo "   sha256 ok ($got) -> $OUT/$m.onnx  ($(fmt_s $(( $(now_ms) - T ))))"
  else
    echo "   SHA256 MISMATCH for $m.onnx: got $got, expected $exp"
    echo "   (left in $WORK/onnx/$m.onnx; $OUT not touched)"
    FAIL=1
  fi
done

# ---- 5. optional ONNX vs TFLite check
if [ "$VERIFY" = 1 ]; then
  echo "== 5. verify ONNX vs TFLite (ai-edge-litert), max abs diff per output"
  for m in "${MODELS[@]}"; do [ -f "$OUT/$m.onnx" ] || die "$OUT/$m.onnx missing, cannot verify"; done
  "$VPY" "$HERE/verify_onnx.py" "$WORK/tflite" "$OUT" "${MODELS[@]}" 2>&1 | grep -v -i xnnpack \
    || FAIL=1
fi

echo "== done in $(fmt_s $(( $(now_ms) - T_ALL )))"
( cd "$OUT" && for m in "${MODELS[@]}"; do
    [ -f "$m.onnx" ] && printf '   %-26s %10d  %s\n' "$m.onnx" "$(stat -c %s "$m.onnx")" "$(file_sha "$m.onnx")"
  done ) || true
exit $FAIL
