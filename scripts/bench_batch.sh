#!/usr/bin/env bash
# Batch speed-up: the same videos with --jobs 1 and --jobs N (default: all cores), --force so
# that both really analyse everything. Prints wall times and the speed-up.
#   usage: scripts/bench_batch.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-$(nproc)}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
videos=(samples/dev/*.mp4)
echo "[bench-batch] ${#videos[@]} videos, $(nproc) cores, jobs 1 vs $N"
run() { target/release/hinge batch "${videos[@]}" --out "$OUT/$1" --jobs "$1" --force -q || [ $? -eq 3 ]; }
now() { python3 -c 'import time; print(time.monotonic())'; }
s=$(now); run 1; t1=$(python3 -c "import time; print(time.monotonic() - $s)")
s=$(now); run "$N"; tn=$(python3 -c "import time; print(time.monotonic() - $s)")
python3 -c "print(f'jobs 1: {$t1:.1f} s   jobs $N: {$tn:.1f} s   speed-up {$t1/$tn:.2f}x')"
