#!/usr/bin/env bash
# Idempotent set-up of everything hinge needs on a Debian/Ubuntu machine:
#   1. system packages (OpenCV, FFmpeg and its libraries, clang for the bindings, Python's pip)
#   2. ONNX Runtime 1.31.1's shared library, from the pinned PyPI wheel, hash-checked
#   3. the release build of hinge
# Each step says what it does and skips what is already done.
#
#   scripts/setup.sh          what building and running hinge needs (make demo)
#   scripts/setup.sh --test   and what the test suite uses besides: Xvfb (the live window test) and,
#                             where the distribution packages it as a deb (Debian), Chromium (the report
#                             rendering test); without them those tests are skipped with a message
#   --list                    print the system packages the mode would ask for, one a line, and stop
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FOR_TESTS=0
LIST=0
for arg in "$@"; do
  case "$arg" in
    --test) FOR_TESTS=1 ;;
    --list) LIST=1 ;;
    *) echo "usage: scripts/setup.sh [--test] [--list]" >&2; exit 2 ;;
  esac
done

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_LIB=libonnxruntime.so.${ORT_VERSION}
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
VENDOR=vendor/onnxruntime
WORK=.work

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---- 1. system packages --------------------------------------------------------------
PACKAGES=(libopencv-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev clang libclang-dev ffmpeg pkg-config python3 python3-pip ca-certificates)
[ "$FOR_TESTS" = 1 ] && PACKAGES+=(xvfb)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep "install ok installed" >/dev/null; }
# Chromium renders the report in a test. Debian packages it as `chromium`; Ubuntu has no such deb (its
# `chromium-browser` only installs the snap), so it is asked for only where apt has a candidate.
chromium_packaged() { apt-cache policy chromium 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; }  # no -q: with pipefail, an early exit of grep fails apt-cache
NO_CHROMIUM="chromium is not packaged as a deb here (Ubuntu ships it as a snap): the report's browser test will be skipped; set HINGE_CHROMIUM=/path/to/chromium-or-chrome to run it"
if [ "$LIST" = 1 ]; then
  printf '%s\n' "${PACKAGES[@]}"
  if [ "$FOR_TESTS" = 1 ]; then
    if chromium_packaged; then echo chromium; else say "$NO_CHROMIUM" >&2; fi
  fi
  exit 0
fi
missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
# a pip that works (pyenv, venv ...) makes python3-pip unnecessary
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
want_chromium=0
if [ "$FOR_TESTS" = 1 ] && ! installed chromium; then
  if command -v chromium >/dev/null 2>&1 || [ -n "${HINGE_CHROMIUM:-}" ]; then
    say "a Chromium is present: ${HINGE_CHROMIUM:-$(command -v chromium)}"
  else
    want_chromium=1
  fi
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ] || [ "$want_chromium" = 1 ]; then
  $SUDO apt-get update -qq
fi
if [ "$want_chromium" = 1 ]; then
  if chromium_packaged; then
    missing+=(chromium)
  else
    say "$NO_CHROMIUM"
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages present: ${PACKAGES[*]}"
fi

# ---- 2. Rust toolchain -----------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found; install Rust >= 1.92 (https://rustup.rs) and run this again" >&2
  exit 1
fi
say "using $(cargo --version)"

# ---- 3. ONNX Runtime shared library ----------------------------------------------------
sha_ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status -; }
if sha_ok "$VENDOR/$ORT_LIB" "$ORT_LIB_SHA256"; then
  say "ONNX Runtime $ORT_VERSION present: $VENDOR/$ORT_LIB (sha256 ok)"
else
  mkdir -p "$WORK" "$VENDOR"
  if ! sha_ok "$WORK/$ORT_WHEEL" "$ORT_WHEEL_SHA256"; then
    say "downloading $ORT_WHEEL from PyPI (pip download, nothing installed)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      --python-version 3.11 --implementation cp --abi cp311 "onnxruntime==$ORT_VERSION" -d "$WORK"
  fi
  sha_ok "$WORK/$ORT_WHEEL" "$ORT_WHEEL_SHA256" || { echo "error: $WORK/$ORT_WHEEL: sha256 mismatch" >&2; exit 1; }
  say "extracting $ORT_LIB into $VENDOR/"
  python3 - "$WORK/$ORT_WHEEL" "$VENDOR/$ORT_LIB" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("onnxruntime/capi/" + sys.argv[2].rsplit("/", 1)[1]) as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  sha_ok "$VENDOR/$ORT_LIB" "$ORT_LIB_SHA256" || { echo "error: $VENDOR/$ORT_LIB: sha256 mismatch" >&2; exit 1; }
  say "ONNX Runtime $ORT_VERSION ready (sha256 ok)"
fi

# ---- 4. models -------------------------------------------------------------------------
( cd models && sha256sum -c --quiet --ignore-missing SHA256SUMS ) || { echo "error: a bundled model is corrupted (models/SHA256SUMS); restore it with git checkout models/" >&2; exit 1; }
say "models verified: $(cd models && ls *.onnx | tr '\n' ' ')"

# ---- 5. build ----------------------------------------------------------------------------
say "building hinge (release)"
cargo build --release --locked --quiet
say "ready: target/release/hinge"
