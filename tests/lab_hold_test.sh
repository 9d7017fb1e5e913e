#!/usr/bin/env bash
# A lab with --hold (docs/training-labs.md): before each of its two clusters
# stops it says how to look at it and waits for Enter (here: two lines piped
# in, so it goes on), and the lab still passes.
set -euo pipefail
bin=${1:?usage: lab_hold_test.sh BIN_DIR}
lab=$(cd "$(dirname "$0")/.." && pwd)/deploy/labs/tab-displacement
out=$(printf '\n\n' | LAB_HOLD_LIMIT_S=120 "$lab" --hold --bin-dir "$bin" 2>&1) || { printf '%s\n' "$out"; exit 1; }
holds=$(grep -c 'held (--hold)' <<<"$out" || true)
[ "$holds" -eq 2 ] || { printf '%s\n' "$out"; echo "expected 2 holds, saw $holds" >&2; exit 1; }
grep -q '^LAB PASSED' <<<"$out" || { printf '%s\n' "$out"; exit 1; }
grep -q 'itsadm --config .*/run2 sm04' <<<"$out" || { echo "no itsadm command for the held cluster" >&2; exit 1; }
echo "lab_hold: 2 holds, LAB PASSED"
