#!/usr/bin/env bash
# A lab with --hold (docs/training-labs.md) holds after each of its parts
# (the failure, the fix), with that part's cluster running: it says how to
# look at it and waits for Enter (here: lines piped in, so it goes on), and
# the lab still passes. Ctrl-C (SIGINT to the lab's process group, as a
# terminal sends it) stops a lab with a message, its cluster and its temp
# directory gone.
set -euo pipefail
bin=${1:?usage: lab_hold_test.sh BIN_DIR}
labs=$(cd "$(dirname "$0")/.." && pwd)/deploy/labs
tmp=$(mktemp -d /tmp/its-lab-hold-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { printf '%s\n' "$out"; echo "lab_hold: $*" >&2; exit 1; }

# Two clusters: the failure's is held before the FIX heading, the fix's
# after LAB PASSED.
out=$(printf '\n\n' | LAB_HOLD_LIMIT_S=120 "$labs/tab-displacement" --hold --bin-dir "$bin" 2>&1) || fail "tab-displacement failed"
holds=$(grep -c 'held (--hold)' <<<"$out" || true)
[ "$holds" -eq 2 ] || fail "expected 2 holds, saw $holds"
grep -q '^LAB PASSED' <<<"$out" || fail "no LAB PASSED"
order=$(grep -E '^=== FIX|held \(--hold\)|R/3 and ITS .*itsadm --config .*/run[12] sm04$' <<<"$out" | sed -E 's/.*(=== FIX|held).*/\1/; s/.*(run[12]).*/\1/' | tr '\n' ' ')
[ "$order" = "held run1 === FIX held run2 " ] || fail "holds out of order: '$order' (want the failure's cluster held before the FIX heading)"

# One cluster for all parts: a hold after each of its three parts.
out=$(printf '\n\n\n' | LAB_HOLD_LIMIT_S=120 "$labs/cookies-cleaned-session-alive" --hold --bin-dir "$bin" 2>&1) || fail "cookies-cleaned-session-alive failed"
order=$(grep -E '^=== |held \(--hold\)|^LAB PASSED' <<<"$out" | sed -E 's/^=== (FAILURE|FIX \(admin|FIX \(for).*/\1/; s/.*held.*/held/; s/^LAB PASSED.*/PASSED/' | tr '\n' ' ')
[ "$order" = "FAILURE held FIX (admin held FIX (for PASSED held " ] || fail "holds out of order: '$order'"

# interrupt LAB WHEN [--hold]: SIGINT to the lab's process group (as a
# terminal's Ctrl-C) once its output has a line matching WHEN; the lab says
# it stopped, exits 130, and leaves no process and no temp directory.
interrupt() {
  local name=$1 when=$2 hold=${3:-} labtmp="$tmp/labtmp-$1" lab rc=0 p
  mkdir "$labtmp"
  mkfifo "$tmp/stdin-$name"
  exec 7<>"$tmp/stdin-$name" # a writer that never writes: --hold waits
  TMPDIR=$labtmp setsid "$labs/$name" --bin-dir "$bin" $hold <"$tmp/stdin-$name" >"$tmp/$name.out" 2>&1 &
  lab=$!
  for _ in $(seq 300); do grep -q -- "$when" "$tmp/$name.out" && break; sleep 0.1; done
  sleep 0.5
  kill -INT -- "-$lab"
  wait "$lab" || rc=$?
  exec 7>&-
  out=$(cat "$tmp/$name.out")
  [ "$rc" = 130 ] || fail "Ctrl-C in $name: exit $rc, expected 130"
  grep -q "^$name: stopped (Ctrl-C) after .* s; its cluster is stopped\$" <<<"$out" || fail "Ctrl-C in $name: no 'stopped' line"
  grep -q 'LAB FAILED' <<<"$out" && fail "Ctrl-C in $name reported as a failure"
  left=$(find "$labtmp" -mindepth 1 -maxdepth 1)
  [ -z "$left" ] || fail "Ctrl-C in $name left $left"
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "$labtmp"; then
      fail "Ctrl-C in $name left $(tr '\0' ' ' <"$p/cmdline") running"
    fi
  done
}
interrupt shortest-timeout '^=== FAILURE'  # in the middle of a part
interrupt dead-agate 'held (--hold)' --hold # while held
echo "lab_hold: holds after each part, Ctrl-C stops cleanly (running and held)"
