#!/usr/bin/env bash
# Runs each fuzz target (or those named) in turn for SECONDS (default 600), from the seeds and
# kept inputs under tests/fixtures/fuzz/<target>/ plus the working corpus
# fuzz/corpus/<target>/ (not committed). A finding is written to
# fuzz/artifacts/<target>/ and stops that run; the log of each run goes to
# fuzz/logs/<target>.log. Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: fuzz/run.sh [SECONDS [TARGET...]]
set -euo pipefail
seconds="${1:-600}"
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else targets=(mp4_boxes config_toml); fi
cd "$(dirname "$0")/.."
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: needs the nightly toolchain and cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz)" >&2
    exit 2
fi
mkdir -p fuzz/logs
status=0
for target in "${targets[@]}"; do
    case "$target" in
        mp4_boxes) max_len=16384 ;;  # the seeds' real moov boxes reach 8 kB
        *) max_len=4096 ;;
    esac
    mkdir -p "fuzz/corpus/$target"
    echo "[fuzz] $target for ${seconds} s (log: fuzz/logs/$target.log)"
    # safe Rust only: no sanitizer (twice the speed); overflow checks and debug assertions stay on
    if ! nice -n 10 cargo +nightly fuzz run --sanitizer none "$target" \
        "fuzz/corpus/$target" "tests/fixtures/fuzz/$target" -- \
        -max_total_time="$seconds" -dict="fuzz/$target.dict" -max_len="$max_len" -timeout=10 \
        -print_final_stats=1 >"fuzz/logs/$target.log" 2>&1; then
        echo "[fuzz] $target: FINDING, see fuzz/logs/$target.log and fuzz/artifacts/$target/" >&2
        status=1
    fi
    grep -E "^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" "fuzz/logs/$target.log" || true
done
exit "$status"
