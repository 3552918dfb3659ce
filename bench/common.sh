# shellcheck shell=bash
# Helpers the benchmark's parts share; sourced by bench/run.sh and bench/<part>.sh, never run.
#
# A part reports its results as rows of BENCH_ROWS (tab-separated: part, what was measured, value, ratio,
# goal) for run.sh's closing table, and every goal it missed as a line of BENCH_MISSED.

# bench_make_host NS: a throwaway network namespace standing in for "the host": lo up and an uplink
# 198.51.100.2/24 with the default route via 198.51.100.1, on a dummy interface when the kernel has the
# driver, else on one end of a veth pair whose other end stays there unaddressed (either way it has carrier and
# nothing answers behind .1: no packet has to flow to time a launch). Prints what kind of uplink it made.
bench_make_host() {
  local ns=$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  if ip -n "$ns" link add uplink0 type dummy 2>/dev/null; then
    echo dummy
  else
    ip -n "$ns" link add uplink0 type veth peer name uplink0p
    ip -n "$ns" link set uplink0p up
    echo "veth, no dummy driver in this kernel"
  fi
  ip -n "$ns" addr add 198.51.100.2/24 dev uplink0
  ip -n "$ns" link set uplink0 up
  ip -n "$ns" route add default via 198.51.100.1 dev uplink0
}

# bench_count_links NS PREFIX: how many interfaces of NS have a name starting with PREFIX.
bench_count_links() {
  ip -n "$1" -o link show 2>/dev/null | awk -v p="$2" '{ sub(/@.*/, "", $2); if (index($2, p) == 1) n++ } END { print n + 0 }'
}

# bench_wait SECONDS CMD...: polls CMD every 50 ms until it succeeds; fails after SECONDS.
bench_wait() {
  local tries=$(($1 * 20)) i
  shift
  for ((i = 0; i < tries; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# bench_median NUMBER...: the median (the mean of the middle two for an even count).
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_calc EXPR: floating-point arithmetic (awk), e.g. bench_calc "4.2 / 1.9".
bench_calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# bench_fmt VALUE DIGITS: VALUE rounded to DIGITS decimals.
bench_fmt() { awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; }

# bench_row PART WHAT VALUE [RATIO] [GOAL]: one row of the closing table.
bench_row() {
  [[ -n ${BENCH_ROWS:-} ]] || return 0
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" "${5:-}" >>"$BENCH_ROWS"
}

# bench_goal VALUE OP TARGET LABEL: prints "OP TARGET: met" or "... MISSED" (OP is <= or >=) and records a
# miss in BENCH_MISSED.
bench_goal() {
  local value=$1 op=$2 target=$3 label=$4 ok
  if [[ $op == '<=' ]]; then
    ok=$(awk -v v="$value" -v t="$target" 'BEGIN { print (v <= t) ? 1 : 0 }')
  else
    ok=$(awk -v v="$value" -v t="$target" 'BEGIN { print (v >= t) ? 1 : 0 }')
  fi
  if ((ok)); then
    echo "$op $target: met"
  else
    echo "$op $target: MISSED"
    [[ -z ${BENCH_MISSED:-} ]] || echo "$label: $value, goal $op $target" >>"$BENCH_MISSED"
  fi
}
