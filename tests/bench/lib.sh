# Helpers shared by the benchmarks (tests/bench/hotpath, tests/bench/million):
# source it after setting $root, $work and $secs.

bin=$root/build/bin
# bash's `times` and the figures read by awk: decimal points, not commas.
export LC_ALL=C
pids=()

# Starts itscluster on the configuration in $1 (run directory $work/run-$2);
# sets $url. The caller's cleanup signals ${pids[@]}.
bench_start_cluster() {  # CONFIG_DIR NAME
  "$bin/itscluster" --config "$1" --run-dir "$work/run-$2" --ephemeral-ports > "$work/$2.out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 300); do grep -q '^ready' "$work/$2.out" 2>/dev/null && break; sleep 0.1; done
  url=$(awk '/^ready/ {print $2}' "$work/$2.out")
  [ -n "$url" ] || { echo "cluster did not start" >&2; exit 1; }
}

# A line of bash's `times` ("0m1.250s 0m0.310s": user, system) -> seconds.
bench_times_s() {  # LINE
  awk -v t="$1" 'BEGIN { split(t, f, " "); s = 0
    for (i = 1; i <= 2; i++) { v = f[i]; m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v)
                               sub(/s$/, "", v); s += m * 60 + v }
    printf "%.6f", s }'
}

# wrk over $secs seconds -> "rps p99_ms non2xx requests wrk_cpu_us"; the last
# is wrk's own CPU time (user + system) per request: the load generator runs
# on the same cores as what it measures.
bench_wrk() {  # URL [wrk args...]
  local out rps p99 bad n cpu
  # `times` in the same subshell: its second line is the CPU time of the
  # subshell's children, that is wrk's.
  out=$(wrk -t1 -c64 -d"${secs}"s --latency "$@"; times)
  cpu=$(tail -1 <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  n=$(awk '/ requests in / {print $1}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  cpu=$(awk -v s="$(bench_times_s "$cpu")" -v n="$n" 'BEGIN { printf "%.1f", (n > 0 ? s * 1e6 / n : 0) }')
  echo "$rps $p99 ${bad:-0} $n $cpu"
}

# Logs N users (LOAD00001...) on to FB03 and makes one step in each; their
# cookies go to $work/cookies, one per line.
bench_open_sessions() {  # N
  : > "$work/cookies"
  local i u c
  for i in $(seq 1 "$1"); do
    u=$(printf 'LOAD%05d' "$i")
    curl -s -D - -o /dev/null -X POST --data "~client=100&~login=$u&~password=welcome&~transaction=FB03" \
      "$url/scripts/wgate/webgui/!" | grep -o '~session=[^;]*' >> "$work/cookies" || true
  done
  [ "$(wc -l < "$work/cookies")" = "$1" ] || { echo "could not open $1 sessions" >&2; exit 1; }
  while read -r c; do
    curl -s -o /dev/null -H "Cookie: $c" "$url/scripts/wgate/webgui/?~okcode=/00&RF05L-BELNR=4711"
  done < "$work/cookies"
}

# Dialog steps over the sessions in $work/cookies -> bench_wrk's line.
bench_steps() {
  COOKIES=$work/cookies bench_wrk -s "$root/tests/bench/steps.lua" "$url"
}
