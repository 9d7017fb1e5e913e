#!/usr/bin/env bash
# The cluster across hosts (deploy/hosts-up): network namespaces web, agate1,
# agate2 and r3 on one bridge, HAProxy round robin over two wgates. Checks,
# through HAProxy:
#   1. sessions keep their agate whichever wgate serves them (steps 1,4,5 on
#      either wgate), the GUSID carries the agate's host, itsadm lists the
#      agates at their hosts' addresses, itsload runs without errors;
#   2. killing one wgate (SIGKILL) loses no session, and load goes on;
#   3. a tc netem delay between web and agate2 shows in latency, not in
#      errors (skipped, saying so, where the kernel has no sch_netem);
#   4. cutting agate2 off (its link down): its users get the timeout page
#      (504, session kept), new sessions go to IT1; after the link returns
#      IT2's sessions go on.
# Exit 77 (ctest: skipped) with a message when namespaces cannot be made.
# usage: tests/hosts/hosts_test.sh [--bin-dir DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ITS_BIN_DIR:-$ROOT/build/bin}
if [ "${1:-}" = "--bin-dir" ]; then BIN=$(cd "${2:?--bin-dir needs a directory}" && pwd); fi
LIMIT_S=85
if [ -z "${HOSTS_TEST_UNDER_TIMEOUT:-}" ]; then
  HOSTS_TEST_UNDER_TIMEOUT=1 exec timeout --foreground -k 5 "$LIMIT_S" "$0" "$@"
fi

say() { printf 'hosts: %s\n' "$*"; }
skip() { say "SKIPPED: $*"; exit 77; }
fail() {
  say "FAILED: $*"
  if [ -n "${tmp:-}" ]; then
    keep=1
    sed 's/^/hosts-up: /' "$tmp/up.err" >&2 2>/dev/null || true
    say "logs in $tmp (kept)"
  fi
  exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root to make network namespaces (run as root)"
command -v ip >/dev/null 2>&1 || skip "needs ip (apt-get install iproute2)"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || skip "needs haproxy (apt-get install haproxy)"
probe=its-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then
  skip "cannot make network namespaces here (ip netns add failed: no CAP_SYS_ADMIN?)"
fi
if ! ip -n "$probe" link add its-probe type veth peer name its-probe1 2>/dev/null; then
  ip netns del "$probe"
  skip "cannot make veth pairs in a network namespace"
fi
ip netns del "$probe"
for p in r3_stub mapping_manager agate wgate itsadm itsload; do
  [ -x "$BIN/$p" ] || fail "no $BIN/$p (build it first)"
done
command -v jq >/dev/null 2>&1 || fail "needs jq"

tmp=$(mktemp -d /tmp/its-hosts-XXXXXX)
keep=0
up_pid=""
cleanup() {
  local status=$?
  trap - EXIT
  if [ -n "$up_pid" ]; then
    kill -TERM "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  ((keep)) || rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

started=$SECONDS
step_timeout=4
"$ROOT/deploy/hosts-up" --bin-dir "$BIN" --run-dir "$tmp/run" --step-timeout "$step_timeout" \
  >"$tmp/up.out" 2>"$tmp/up.err" &
up_pid=$!
until grep -q '^ready ' "$tmp/up.out" 2>/dev/null; do
  kill -0 "$up_pid" 2>/dev/null || { cat "$tmp/up.err" >&2; fail "deploy/hosts-up exited before ready"; }
  ((SECONDS - started < 40)) || fail "deploy/hosts-up not ready in 40 s"
  sleep 0.1
done
# shellcheck source=/dev/null
source "$tmp/run/hosts.env"
URL=$(sed -n 's/^ready //p' "$tmp/up.out")
[ "$URL" = "$HOSTS_URL" ] || fail "ready line '$URL' is not $HOSTS_URL"
say "cluster ready at $URL in $((SECONDS - started)) s (run directory $HOSTS_RUN)"
W=$URL/scripts/wgate/webgui
web() { ip netns exec "$HOSTS_NS_WEB" "$@"; }

# req JAR URL: one request through HAProxy; sets STATUS, WGATE, AGATE, STEPS,
# TIME, BODY (the page in $tmp/body).
req() {
  local jar=$1 url=$2 out
  out=$(web curl -s -m $((step_timeout + 6)) -b "$jar" -c "$jar" -D "$tmp/headers" -o "$tmp/body" \
    -w '%{http_code} %{time_total}' "$url") || true
  STATUS=${out%% *}
  TIME=${out##* }
  WGATE=$(sed -n 's/^X-ITS-WGate: \([^\r]*\).*/\1/ip' "$tmp/headers" | head -1)
  AGATE=$(sed -n 's/^X-ITS-AGate: \([^\r]*\).*/\1/ip' "$tmp/headers" | head -1)
  STEPS=$(sed -n 's/^X-ITS-Steps: \([^\r]*\).*/\1/ip' "$tmp/headers" | head -1)
}
# logon USER-NUMBER: a user of its own for every session (DEMO's sessions
# would displace each other beyond rdisp/max_alt_modes); itsload takes
# LOAD00001 on.
logon() { printf '~login=LOAD%05d&~password=welcome&~client=100&~language=EN' "$((9000 + $1))"; }

# --- 1. sessions keep their agate on either wgate ---------------------------
declare -A owner
sessions=(s1 s2 s3 s4 s5 s6)
n=0
for s in "${sessions[@]}"; do
  n=$((n + 1))
  pin=""
  case $s in s1) pin="&~agate_routing=IT1" ;; s2) pin="&~agate_routing=IT2" ;; esac
  req "$tmp/$s.jar" "$W/!?~transaction=FB03&$(logon $n)$pin"
  [ "$STATUS" = 200 ] || fail "start of $s: status $STATUS ($(head -c 300 "$tmp/body"))"
  [ "$STEPS" = "1,2,3,4,5" ] || fail "start of $s: X-ITS-Steps '$STEPS'"
  owner[$s]=$AGATE
done
[[ ${owner[s1]} == IT1/* && ${owner[s2]} == IT2/* ]] || fail "pinned sessions on ${owner[s1]} and ${owner[s2]}"
# The GUSID's host part is the agate's host: IT2's address, not a name.
gusid=$(grep -o 'IT2-A%3A[^%]*' "$tmp/s2.jar" | head -1)
[ "$gusid" = "IT2-A%3A$HOSTS_IP_AGATE2" ] || fail "GUSID of an IT2 session starts '$gusid', expected IT2-A:$HOSTS_IP_AGATE2"
declare -A wgates_seen
for round in 1 2 3; do
  for s in "${sessions[@]}"; do
    req "$tmp/$s.jar" "$W/?~okcode=/00&RF05L-BELNR=4711&RF05L-BUKRS=1000&RF05L-GJAHR=2024"
    [ "$STATUS" = 200 ] || fail "step $round of $s: status $STATUS"
    [ "$STEPS" = "1,4,5" ] || fail "step $round of $s: X-ITS-Steps '$STEPS'"
    [ "$AGATE" = "${owner[$s]}" ] || fail "step $round of $s on $AGATE, its session is on ${owner[$s]}"
    wgates_seen[$WGATE]=1
  done
done
[ -n "${wgates_seen[wgate1]:-}" ] && [ -n "${wgates_seen[wgate2]:-}" ] ||
  fail "HAProxy used only ${!wgates_seen[*]}"
say "6 sessions, 18 steps (1,4,5) through wgate1 and wgate2, each on the agate that holds it"

web "$BIN/itsadm" --config "$HOSTS_CONFIG" agates --json >"$tmp/agates.json" || fail "itsadm agates"
for inst in IT1:$HOSTS_IP_AGATE1 IT2:$HOSTS_IP_AGATE2; do
  n=$(jq --arg i "${inst%%:*}" --arg h "${inst#*:}:" \
    '[.[] | select(.instance == $i and .state == "up" and (.address | startswith($h)))] | length' "$tmp/agates.json")
  ((n >= 1)) || fail "itsadm agates: no up process of ${inst%%:*} at ${inst#*:} ($(cat "$tmp/agates.json"))"
done
say "itsadm agates: IT1 at $HOSTS_IP_AGATE1, IT2 at $HOSTS_IP_AGATE2"

# load LABEL SECONDS: itsload through HAProxy; the report in $tmp/LABEL.json.
load() {
  web "$BIN/itsload" "$ROOT/deploy/scenarios/display.toml" --url "$URL" --users 8 \
    --duration "$2" --think 20ms --graceful-stop 2s --quiet --report "$tmp/$1.json" >"$tmp/$1.out" 2>&1 ||
    fail "itsload ($1): exit $? ($(tail -3 "$tmp/$1.out"))"
}
errors() { jq '.errors + .transport_errors' "$tmp/$1.json"; }
load steady 3
[ "$(errors steady)" = 0 ] || fail "itsload: $(errors steady) errors ($(jq -c .errors_by_kind "$tmp/steady.json"))"
reqs=$(jq .requests "$tmp/steady.json")
((reqs > 50)) || fail "itsload: only $reqs requests"
p99_steady=$(jq '.latency_ms.p99' "$tmp/steady.json")
for inst in IT1 IT2; do
  served=$(jq --arg i "$inst/" '[.agates | to_entries[] | select(.key | startswith($i)) | .value] | add // 0' "$tmp/steady.json")
  ((served > 0)) || fail "itsload: no answer from $inst ($(jq -c .agates "$tmp/steady.json"))"
done
say "itsload: $reqs requests over both instances, 0 errors, p99 ${p99_steady} ms"

# --- 2. one wgate killed: no session lost -----------------------------------
load killed 4 &
load_pid=$!
sleep 1.5
kill -KILL "$HOSTS_PID_WGATE1"
say "wgate1 (pid $HOSTS_PID_WGATE1) killed during load"
wait "$load_pid" || fail "itsload during the kill"
[ "$(errors killed)" = 0 ] ||
  fail "itsload with a wgate killed: $(errors killed) errors ($(jq -c .errors_by_kind "$tmp/killed.json"))"
for s in "${sessions[@]}"; do
  req "$tmp/$s.jar" "$W/?~okcode=/00"
  [ "$STATUS" = 200 ] && [ "$STEPS" = "1,4,5" ] && [ "$AGATE" = "${owner[$s]}" ] ||
    fail "$s after the kill: status $STATUS steps '$STEPS' on $AGATE (owner ${owner[$s]})"
  [ "$WGATE" = wgate2 ] || fail "$s after the kill served by $WGATE"
done
say "after the kill: $(jq .requests "$tmp/killed.json") load requests without error, all 6 sessions go on through wgate2"

# --- 3. delay between web and agate2 ----------------------------------------
# On agate2's side: its packets to web wait 100 ms (htb class + netem).
ns2=$HOSTS_NS_AGATE2
if tc -n "$ns2" qdisc add dev eth0 root handle 1: htb default 1 2>/dev/null &&
  tc -n "$ns2" class add dev eth0 parent 1: classid 1:1 htb rate 10gbit quantum 200000 &&
  tc -n "$ns2" class add dev eth0 parent 1: classid 1:2 htb rate 10gbit quantum 200000 &&
  tc -n "$ns2" qdisc add dev eth0 parent 1:2 handle 20: netem delay 100ms 2>"$tmp/netem.err" &&
  tc -n "$ns2" filter add dev eth0 parent 1: protocol ip u32 match ip dst "$HOSTS_IP_WEB/32" flowid 1:2; then
  req "$tmp/s2.jar" "$W/?~okcode=/00"
  [ "$STATUS" = 200 ] || fail "IT2 step with the delay: status $STATUS"
  awk -v t="$TIME" 'BEGIN { exit !(t >= 0.1) }' || fail "IT2 step took $TIME s with 100 ms delay"
  t2=$TIME
  req "$tmp/s1.jar" "$W/?~okcode=/00"
  awk -v t="$TIME" 'BEGIN { exit !(t < 0.1) }' || fail "IT1 step took $TIME s: the delay is not between web and agate2 only"
  load delayed 3
  [ "$(errors delayed)" = 0 ] || fail "itsload with the delay: $(errors delayed) errors"
  p99=$(jq '.latency_ms.p99' "$tmp/delayed.json")
  awk -v p="$p99" 'BEGIN { exit !(p >= 100) }' || fail "itsload p99 $p99 ms with 100 ms delay to IT2"
  say "100 ms delay web<->agate2: IT2 step ${t2} s, IT1 step ${TIME} s, itsload p99 ${p99} ms (was ${p99_steady}), 0 errors"
  tc -n "$ns2" qdisc del dev eth0 root
else
  say "SKIPPED the delay check: tc netem is not available here ($(head -1 "$tmp/netem.err" 2>/dev/null || echo "htb/u32 missing"); kernel without sch_netem)"
  tc -n "$ns2" qdisc del dev eth0 root 2>/dev/null || true
fi

# --- 4. agate2 cut off ---------------------------------------------------------
ip -n "$HOSTS_NS_SWITCH" link set agate2 down
cut_at=$SECONDS
say "agate2's link down"
req "$tmp/s2.jar" "$W/?~okcode=/00"
[ "$STATUS" = 504 ] || fail "IT2 session while cut off: status $STATUS, expected 504"
grep -q 'did not answer in time - your session is kept' "$tmp/body" || fail "IT2 session while cut off: not the timeout page"
say "IT2 user while cut off: 504 after ${TIME} s, 'did not answer in time - your session is kept'"
# The wgates stop choosing IT2 once its Mapping Manager was silent 3 s.
while ((SECONDS - cut_at < 4)); do sleep 0.2; done
for i in 1 2 3 4 5 6; do
  req "$tmp/new$i.jar" "$W/!?~transaction=FB03&$(logon $((10 + i)))"
  [ "$STATUS" = 200 ] || fail "new session $i while agate2 is cut off: status $STATUS"
  [[ $AGATE == IT1/* ]] || fail "new session $i while agate2 is cut off went to $AGATE"
done
say "6 new sessions while agate2 is cut off: all on IT1"
req "$tmp/s1.jar" "$W/?~okcode=/00"
[ "$STATUS" = 200 ] || fail "IT1 session while agate2 is cut off: status $STATUS"
ip -n "$HOSTS_NS_SWITCH" link set agate2 up
back_at=$SECONDS
until req "$tmp/s2.jar" "$W/?~okcode=/00" && [ "$STATUS" = 200 ]; do
  ((SECONDS - back_at < 25)) || fail "IT2 session not back 25 s after the link returned (last status $STATUS)"
  sleep 0.3
done
[ "$STEPS" = "1,4,5" ] && [ "$AGATE" = "${owner[s2]}" ] ||
  fail "IT2 session after the link returned: steps '$STEPS' on $AGATE (owner ${owner[s2]})"
say "link back: the IT2 session goes on at ${owner[s2]} after $((SECONDS - back_at)) s"
until req "$tmp/again.jar" "$W/!?~transaction=FB03&$(logon 20)&~agate_routing=IT2" && [ "$STATUS" = 200 ]; do
  ((SECONDS - back_at < 25)) || fail "IT2 takes no new session 25 s after the link returned (last status $STATUS)"
  sleep 0.3
done
[[ $AGATE == IT2/* ]] || fail "a session pinned to IT2 went to $AGATE"
until [ "$(web curl -s -m 2 "$URL/healthz")" = ok ]; do
  ((SECONDS - back_at < 25)) || fail "/healthz not ok 25 s after the link returned: $(web curl -s -m 2 "$URL/healthz")"
  sleep 0.3
done
say "IT2 takes new sessions again, /healthz ok"

# --- the end: SIGTERM removes every namespace and process --------------------
kill -TERM "$up_pid"
wait "$up_pid" || true
up_pid=""
tag=${HOSTS_NS_WEB##*-}
if ip netns list | grep -q -- "-$tag\b"; then fail "namespaces left after SIGTERM: $(ip netns list | grep -- "-$tag")"; fi
for p in $HOSTS_PID_R3_STUB $HOSTS_PID_MM_IT1 $HOSTS_PID_MM_IT2 $HOSTS_PID_WGATE2 $HOSTS_PID_HAPROXY; do
  kill -0 "$p" 2>/dev/null && fail "pid $p still running after SIGTERM"
done
say "SIGTERM: every process and namespace gone"
say "PASSED in $((SECONDS - started)) s"
