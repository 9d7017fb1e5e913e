# deploy/labs/lib.sh — what every training lab in deploy/labs/ shares.
# shellcheck shell=bash
#
# A lab is one command. It sources this file and calls
#   lab_init "$@"          options, a temp directory, the cleanup trap, a time limit
#   lab_config NAME        a temp copy of deploy/config to edit (lab_profile, lab_service, lab_toml)
#   lab_config_from DIR NAME  a copy of a lab configuration, for the fix
#   lab_start DIR [SCALE]  its own cluster (itscluster) on free ports; sets LAB_URL, W, LAB_RUN
#   lab_get TAB URL        curl with one cookie jar per "browser tab"; LAB_STATUS, page_* read it
#   adm ...                itsadm against that cluster; adm_count counts rows with jq
#   lab_part TITLE         a part of the lab (the failure, a fix): with --hold
#                          the part before it ends here with its cluster held
#   lab_section/lab_say    what each role observes, printed
#   lab_assert_*           the documented outcome; a miss exits 1 with "LAB FAILED: ..."
#   lab_done               "LAB PASSED" and the wall time
# Every cluster a lab starts is stopped on exit (also on failure or Ctrl-C);
# only the PIDs the lab started are signalled. Never port 8080: every listener
# of a lab cluster binds a free port, so labs run beside deploy/up and beside
# each other.

# Run, not sourced (e.g. by a loop over deploy/labs/*): not a lab; say which
# are.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "deploy/labs/lib.sh is what the labs share, not a lab. The labs:"
  for l in "$(dirname "$0")"/*; do [ "$l" != "$0" ] && echo "  $l"; done
  echo "All of them at once: ctest --test-dir build -L lab"
  exit 0
fi

# ITS_ROOT, its_log, its_install, its_build, ITS_PACKAGES.
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LAB_NAME=$(basename "$0")
LAB_LIMIT_S=${LAB_LIMIT_S:-90} # the whole lab, cluster starts included
# The lab runs under `timeout`: one that hangs is stopped (SIGTERM), and its
# trap still stops its cluster. Sourced without arguments, this file sees the
# lab's own, so the lab is started again with all of them.
# With --hold a trainer may look around as long as the class needs: no limit
# (LAB_HOLD_LIMIT_S sets one; 0 = none).
if [ -z "${LAB_UNDER_TIMEOUT:-}" ]; then
  for a in "$@"; do [ "$a" = --hold ] && LAB_LIMIT_S=${LAB_HOLD_LIMIT_S:-0}; done
  LAB_UNDER_TIMEOUT=1 exec timeout --foreground -k 10 "$LAB_LIMIT_S" "$0" "$@"
fi
LAB_PROGRAMS=(itscluster itsadm r3_stub mapping_manager agate wgate)
LAB_CLUSTER_PID=""
LAB_RUNS=0
LAB_TMP=""
LAB_STATUS=""
LAB_URL=""
# shellcheck disable=SC2034 # W: the labs' /scripts/wgate prefix
W=""
LAB_RUN=""
LAB_SIM_EPOCH="" # the first cluster's simulated clock (lab_start)
LAB_SIM_SCALE=""
LAB_PART=""        # the title of the part running (lab_part)
LAB_INTERRUPTED="" # "Ctrl-C" (SIGINT), "the terminal closed" (SIGHUP)

lab_usage() {
  # The lab's own header comment, then the common options.
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  cat <<USAGE

Options (every lab):
  --bin-dir DIR  the programs to run (default: \$ITS_BIN_DIR, else build/bin,
                 built with the release preset if missing)
  --keep         keep the lab's temp directory (configuration, logs, cookie jars)
  --hold         after each part of the lab (the failure, the fix) and its
                 checks, keep its cluster running and wait for Enter: look
                 around with itsadm, curl or a browser; no time limit then
USAGE
}

# lab_init "$@": parses the options, finds the programs, makes the temp
# directory and arms the cleanup.
lab_init() {
  LAB_BIN=${ITS_BIN_DIR:-}
  LAB_KEEP=0
  LAB_HOLD=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --bin-dir)
        [ $# -ge 2 ] || { its_log "$LAB_NAME: --bin-dir needs a directory"; lab_usage >&2; exit 2; }
        [ -d "$2" ] ||
          { its_log "$LAB_NAME: --bin-dir $2: no such directory"; exit 2; }
        LAB_BIN=$(cd "$2" && pwd)
        shift 2 ;;
      --keep) LAB_KEEP=1; shift ;;
      --hold) LAB_HOLD=1; shift ;;
      -h | --help) lab_usage; exit 0 ;;
      *) its_log "$LAB_NAME: unknown option '$1'"; lab_usage >&2; exit 2 ;;
    esac
  done
  local p absent=0
  if [ -z "$LAB_BIN" ]; then
    LAB_BIN=$ITS_ROOT/build/bin
    for p in "${LAB_PROGRAMS[@]}"; do [ -x "$LAB_BIN/$p" ] || absent=1; done
    if ((absent)); then
      its_install "${ITS_PACKAGES[@]}"
      its_log "building (Release) into build/ ..."
      (its_build "${LAB_PROGRAMS[@]}") >&2
    fi
  fi
  for p in "${LAB_PROGRAMS[@]}"; do
    [ -x "$LAB_BIN/$p" ] || { its_log "$LAB_NAME: no $LAB_BIN/$p (build it, or give --bin-dir)"; exit 2; }
  done
  for p in curl jq; do
    command -v "$p" >/dev/null 2>&1 || { its_log "$LAB_NAME: needs $p (apt-get install $p)"; exit 2; }
  done
  LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/its-lab-$LAB_NAME-XXXXXX")
  LAB_T0=$(date +%s%N)
  trap lab_cleanup EXIT
  trap 'LAB_INTERRUPTED="Ctrl-C"; exit 130' INT
  trap 'LAB_INTERRUPTED="the terminal closed"; exit 129' HUP
  trap 'its_log "$LAB_NAME: stopped (time limit ${LAB_LIMIT_S} s, or SIGTERM)"; exit 143' TERM
}

lab_elapsed() { # seconds since lab_init, one decimal
  local ns=$(($(date +%s%N) - LAB_T0))
  printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10))
}

lab_cleanup() {
  local rc=$?
  # A Ctrl-C reaches the lab twice (from the terminal and from `timeout`,
  # which passes it on): the second must not cut the cleanup short.
  trap '' INT TERM HUP
  trap - EXIT
  lab_stop
  if [ -n "$LAB_INTERRUPTED" ]; then
    its_log "$LAB_NAME: stopped ($LAB_INTERRUPTED) after $(lab_elapsed) s; its cluster is stopped"
  elif ((rc != 0)); then
    its_log "LAB FAILED: $LAB_NAME (exit $rc after $(lab_elapsed) s); configuration and logs: $LAB_TMP"
  fi
  if ((rc != 0)) && [ -z "$LAB_INTERRUPTED" ]; then
    : # a failed lab keeps its directory (named above)
  elif ((LAB_KEEP)); then
    its_log "kept: $LAB_TMP"
  else
    rm -rf "$LAB_TMP"
  fi
  exit "$rc"
}

# ------------------------------------------------------------ configuration

# lab_config NAME: a fresh copy of deploy/config in the temp directory; prints
# its path.
lab_config() {
  local dir=$LAB_TMP/config-$1
  rm -rf "$dir"
  cp -r "$ITS_ROOT/deploy/config" "$dir"
  echo "$dir"
}

# lab_config_from DIR NAME: a copy of the lab configuration DIR under another
# name (a fix edits its own copy, so the failure's stays as it ran); prints its
# path.
lab_config_from() {
  local dir=$LAB_TMP/config-$2
  rm -rf "$dir"
  cp -r "$1" "$dir"
  echo "$dir"
}

# lab_profile DIR NAME VALUE: sets an R/3 profile parameter (r3/DEFAULT.PFL).
lab_profile() {
  local file=$1/r3/DEFAULT.PFL
  if grep -q "^$2 *=" "$file"; then
    sed -i "s|^$2 *=.*|$2 = $3|" "$file"
  else
    echo "$2 = $3" >>"$file"
  fi
}

# lab_service DIR SERVICE PARAM VALUE: sets ~PARAM in services/SERVICE.srvc.
lab_service() {
  local file=$1/services/$2.srvc
  touch "$file"
  if grep -q "^$3 " "$file"; then
    sed -i "s|^$3 .*|$3 $4|" "$file"
  else
    echo "$3 $4" >>"$file"
  fi
}

# lab_toml DIR KEY VALUE: sets a top-level key of cluster.toml (VALUE as TOML).
lab_toml() {
  local file=$1/cluster.toml
  if grep -q "^$2 *=" "$file"; then
    sed -i "s|^$2 *=.*|$2 = $3|" "$file"
  else
    sed -i "1a $2 = $3" "$file"
  fi
}

# ------------------------------------------------------------ the cluster

# lab_start CONFIG [TIME_SCALE]: stops the lab's previous cluster, starts
# itscluster on free ports and waits (at most 30 s) for its ready line. A
# later cluster at the same time scale keeps the first one's simulated clock
# (its sim_epoch), so the fix's SM04 times follow the failure's instead of
# starting over.
lab_start() {
  local config=$1 scale=${2:-} i
  lab_stop
  if [ -n "$LAB_SIM_EPOCH" ] && [ "$scale" = "$LAB_SIM_SCALE" ] &&
    ! grep -q '^sim_epoch *=' "$config/cluster.toml"; then
    lab_toml "$config" sim_epoch "$LAB_SIM_EPOCH"
  fi
  LAB_RUNS=$((LAB_RUNS + 1))
  LAB_RUN=$LAB_TMP/run$LAB_RUNS
  local out=$LAB_TMP/itscluster$LAB_RUNS.out err=$LAB_TMP/itscluster$LAB_RUNS.err
  local args=(--config "$config" --run-dir "$LAB_RUN" --ephemeral-ports)
  [ -n "$scale" ] && args+=(--time-scale "$scale")
  : >"$out"
  "$LAB_BIN/itscluster" "${args[@]}" >"$out" 2>"$err" </dev/null &
  LAB_CLUSTER_PID=$!
  LAB_URL=""
  for ((i = 0; i < 300; i++)); do
    LAB_URL=$(awk '$1 == "ready" { print $2; exit }' "$out")
    [ -n "$LAB_URL" ] && break
    kill -0 "$LAB_CLUSTER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$LAB_URL" ]; then
    tail -n 20 "$err" >&2
    lab_fail "the cluster did not start (itscluster --config $config)"
  fi
  if [ -z "$LAB_SIM_EPOCH" ]; then
    LAB_SIM_EPOCH=$(awk -F' *= *' '$1 == "sim_epoch" { print $2; exit }' "$LAB_RUN/cluster.toml")
    LAB_SIM_SCALE=$scale
  fi
  # shellcheck disable=SC2034 # used by the labs
  W=$LAB_URL/scripts/wgate
  lab_say "cluster $LAB_URL (itscluster pid $LAB_CLUSTER_PID, time_scale ${scale:-from cluster.toml}, configuration $config)"
}

# lab_stop: SIGTERM to the lab's itscluster, which stops every process of its
# cluster; SIGKILL if it has not ended within 7 s.
lab_stop() {
  [ -n "$LAB_CLUSTER_PID" ] || return 0
  local i
  kill -TERM "$LAB_CLUSTER_PID" 2>/dev/null || true
  for ((i = 0; i < 70; i++)); do
    kill -0 "$LAB_CLUSTER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$LAB_CLUSTER_PID" 2>/dev/null || true
  wait "$LAB_CLUSTER_PID" 2>/dev/null || true
  LAB_CLUSTER_PID=""
}

# adm ARGS...: itsadm against the lab's cluster.
adm() { "$LAB_BIN/itsadm" --config "$LAB_RUN" "$@"; }

# adm_grep COMMAND REGEX: the table of `itsadm COMMAND`, header and the rows
# matching REGEX only.
adm_grep() { adm "$1" | awk -v re="$2" 'NR == 1 || $0 ~ re'; }

# adm_count COMMAND JQ_CONDITION: rows of `itsadm COMMAND --json` for which
# the condition holds, e.g. adm_count sm04 '.user == "DEMO"'.
adm_count() { adm "$1" --json | jq "[.[] | select($2)] | length"; }

# adm_get COMMAND JQ_CONDITION FIELD: FIELD of the first matching row ("" if none).
adm_get() { adm "$1" --json | jq -r "[.[] | select($2)][0].$3 // empty"; }

# metric NAME: a counter of the wgate's /metrics (0 if absent).
metric() {
  curl -s -m 5 "$LAB_URL/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

# metrics PREFIX: the /metrics lines whose name starts with PREFIX.
metrics() { curl -s -m 5 "$LAB_URL/metrics" | grep "^$1" || true; }

# access_log TYPE: the lines of entry type TYPE in every instance's access.log
# (the agates flush it every 250 ms).
access_log() { # in time order across the instances (date, time: fields 2, 3)
  cat "$LAB_RUN"/logs/*/access.log 2>/dev/null | grep "^$1 " | sort -s -k2,3 || true
}

# access_log_has TYPE TEXT: a line of TYPE contains TEXT. The agates write
# their access.log once per tick (up to 250 ms after the event): wait for it
# with wait_until, never read it once.
access_log_has() {
  access_log "$1" | grep -qF -- "$2"
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# false if it never did within SECONDS.
wait_until() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# ------------------------------------------------------------ browser tabs

# lab_get TAB URL [CURL ARGS...]: a request of browser tab TAB (its own cookie
# jar; TAB "-" sends no cookie). The page, headers and status stay for the
# page_* functions; LAB_STATUS is the HTTP status.
lab_get() {
  local tab=$1 url=$2
  shift 2
  local jar=()
  if [ "$tab" != "-" ]; then
    touch "$LAB_TMP/jar-$tab"
    jar=(-b "$LAB_TMP/jar-$tab" -c "$LAB_TMP/jar-$tab")
  fi
  LAB_STATUS=$(curl -s -m 20 "${jar[@]}" -D "$LAB_TMP/head-$tab" -o "$LAB_TMP/page-$tab" \
    -w '%{http_code}' "$@" "$url") || lab_fail "no answer from $url"
}

# lab_forget_cookies TAB: the browser deletes its cookies (or is closed).
lab_forget_cookies() { rm -f "$LAB_TMP/jar-$1"; }

# What the last page of TAB shows.
page_title() { sed -n 's/.*<h1[^>]*>\([^<]*\)<\/h1>.*/\1/p' "$LAB_TMP/page-$1" | head -n 1; }
page_message() { { grep -o 'id="its-message">[^<]*' "$LAB_TMP/page-$1" || true; } | head -n 1 | cut -d'>' -f2; }
page_user() { { grep -o 'User [A-Z0-9]*' "$LAB_TMP/page-$1" || true; } | head -n 1 | cut -d' ' -f2; }
page_has() { grep -q -- "$2" "$LAB_TMP/page-$1"; }
# The process that answered: instance/process/pid (header X-ITS-AGate).
page_agate() { tr -d '\r' <"$LAB_TMP/head-$1" | awk -F': ' 'tolower($1) == "x-its-agate" { print $2 }'; }
# The SISP session URL of the page's SessInfo (sessions with sapwp_active=1).
page_sess_url() {
  { grep -o '"sessUrl":"[^"]*"' "$LAB_TMP/page-$1" || true; } | head -n 1 | cut -d'"' -f4 | sed 's/\\u0026/\&/g'
}
# The GUSID's public ID of the page's SessInfo.
page_gusid() { { grep -o '"GUSID":"[^"]*"' "$LAB_TMP/page-$1" || true; } | head -n 1 | cut -d'"' -f4; }
# "status title / message / user" in one line, for the printout.
page_summary() {
  local msg user
  msg=$(page_message "$1")
  user=$(page_user "$1")
  printf 'HTTP %s  "%s"%s%s' "$LAB_STATUS" "$(page_title "$1")" \
    "${msg:+  message: \"$msg\"}" "${user:+  (page of user $user)}"
}

# urlencode TEXT
urlencode() { jq -rn --arg v "$1" '$v | @uri'; }

# dsm_terminate COMMAND SESS_URL...: what the portal's DSM sends on pagehide
# (COMMAND ABORT) or on portal Log Off (LOGOFF): one POST to /dsm/terminator
# with Command and SerKeyString (the escaped session URLs joined by '&').
# Prints the Terminator's JSON answer.
dsm_terminate() {
  local command=$1 keys="" u
  shift
  for u in "$@"; do keys+="${keys:+&}$(urlencode "$u")"; done
  curl -s -m 20 --data-urlencode "Command=$command" --data-urlencode "SerKeyString=$keys" \
    "$LAB_URL/dsm/terminator"
}

# lab_hold [last]: --hold: the running cluster, how to look at it, and a
# wait for Enter (EOF on stdin goes on at once). Ctrl-C meanwhile stops the
# lab.
lab_hold() {
  ((LAB_HOLD)) || return 0
  [ -n "$LAB_CLUSTER_PID" ] && kill -0 "$LAB_CLUSTER_PID" 2>/dev/null || return 0
  local itsadm then scale
  itsadm="$(lab_itsadm) --config $LAB_RUN"
  scale=${LAB_SIM_SCALE:-$(awk -F' *= *' '$1 == "time_scale" { sub(/[ \t]*#.*/, "", $2); print $2; exit }' "$LAB_RUN/cluster.toml" 2>/dev/null)}
  if [ "${1:-}" = last ]; then
    then="    Enter (or Ctrl-C) ends the lab and stops this cluster."
  else
    then="    Look, do not change: the lab may go on with this cluster, and what you end or
    start here (sm05 end, a logon, a logoff) may change what its next checks see."
  fi
  cat <<HOLD

--- held (--hold) after "${LAB_PART:-the lab}": its cluster runs on until you press Enter
$then
    the wgate       $LAB_URL  (admin page: $LAB_URL/scripts/wgate/admin/!)
    R/3 and ITS     $itsadm sm04
                    (or sm05, sm12, sessions, agates instead of sm04)
    access log      $LAB_RUN/logs/*/access.log
    Simulated time runs on meanwhile (time_scale ${scale:-1}): sessions time out as they would.
HOLD
  read -r _ || true
}

# ------------------------------------------------------------ printing

lab_title() {
  printf '\n######## Lab %s: %s\n' "$LAB_NAME" "$1"
}
lab_section() { printf '\n=== %s\n' "$*"; }
# lab_part TITLE: the next part of the lab (the failure, a fix) begins. With
# --hold the part before it ends here: its checks are done and its cluster
# still runs (a fix that needs a cluster of its own starts it after this).
lab_part() {
  [ -n "$LAB_PART" ] && lab_hold
  LAB_PART=$1
  lab_section "$@"
}
lab_say() { printf '%s\n' "$*"; }
# lab_show ROLE COMMAND...: a role's view, indented.
lab_show() {
  local role=$1
  shift
  printf -- '--- %s: %s\n' "$role" "$(lab_command_text "$@")"
  "$@" 2>&1 | sed 's/^/    /'
}

# lab_itsadm: the itsadm this lab runs, as a student types it here: relative
# to the working directory when below it (build/bin/itsadm), else absolute.
lab_itsadm() {
  if [[ $LAB_BIN == "$PWD"/* ]]; then
    printf '%s/itsadm' "${LAB_BIN#"$PWD"/}"
  else
    printf '%s/itsadm' "$LAB_BIN"
  fi
}

# lab_command_text HELPER ARGS...: the command a student can type for what a
# helper of this file does.
lab_command_text() {
  local itsadm
  itsadm="$(lab_itsadm) --config $LAB_RUN"
  case "$1" in
    adm) shift; printf '%s %s' "$itsadm" "$*" ;;
    adm_grep) printf "%s %s | grep -E %s" "$itsadm" "$2" "$(lab_quote "$3")" ;;
    access_log) printf "grep -h %s %s/logs/*/access.log | sort -k2,3" "$(lab_quote "^$2 ")" "$LAB_RUN" ;;
    metrics) printf "curl -s %s/metrics | grep %s" "$LAB_URL" "$(lab_quote "^$2")" ;;
    reconcile) printf '%s sm04 --json, matched with %s sessions --json' "$itsadm" "$itsadm" ;;
    *) local a out=""
       for a in "$@"; do
         if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"; else out+=" $(lab_quote "$a")"; fi
       done
       printf '%s' "${out# }" ;;
  esac
}
# lab_quote TEXT: TEXT in single quotes, for a shell.
lab_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# ------------------------------------------------------------ assertions

lab_fail() {
  printf 'LAB FAILED: %s: %s\n' "$LAB_NAME" "$*" >&2
  exit 1
}
lab_ok() { printf '  ok: %s\n' "$*"; }

# lab_assert_eq ACTUAL EXPECTED WHAT ("none" printed for an empty value)
lab_assert_eq() {
  [ "$1" = "$2" ] || lab_fail "$3: expected '$2', got '$1'"
  lab_ok "$3: ${1:-none}"
}
# lab_assert_ge ACTUAL MIN WHAT (whole numbers)
lab_assert_ge() {
  [ "$1" -ge "$2" ] || lab_fail "$3: expected at least $2, got $1"
  lab_ok "$3: $1 (>= $2)"
}
# lab_assert_le ACTUAL MAX WHAT (whole numbers)
lab_assert_le() {
  [ "$1" -le "$2" ] || lab_fail "$3: expected at most $2, got $1"
  lab_ok "$3: $1 (<= $2)"
}
# lab_assert_contains TEXT NEEDLE WHAT
lab_assert_contains() {
  case "$1" in
    *"$2"*) lab_ok "$3 contains $2" ;;
    *) lab_fail "$3: expected \"$2\" in \"$1\"" ;;
  esac
}
# lab_assert_not_contains TEXT NEEDLE WHAT
lab_assert_not_contains() {
  case "$1" in
    *"$2"*) lab_fail "$3: did not expect \"$2\" in \"$1\"" ;;
    *) lab_ok "$3" ;;
  esac
}

# lab_done: the last line of a good run; with --hold the last part's cluster
# is held after it.
lab_done() {
  printf '\nLAB PASSED: %s (%s s)\n' "$LAB_NAME" "$(lab_elapsed)"
  lab_hold last
}
