#!/usr/bin/env bash
# Launch latency with sandboxes already running: bash bench/scale.sh [--levels "0 100 250 250+300 0"] [--rounds N]
# (normally run by bench/run.sh, which passes NSRUN, LAUNCH_BENCH, BENCH_ROWS and BENCH_MISSED).
#
# Two throwaway bench hosts (see bench_make_host), "busy" and "empty". For each level NAT[+NONE] in turn:
# bring the busy host's population of background sandboxes to NAT `nsrun --net=nat -- sleep 600` and NONE
# `nsrun --net=none -- sleep 600` (starting or stopping some), then time, interleaved round by round,
# `nsrun --net=nat -- true` in the busy host and in the empty one, `nsrun --net=none -- true` and
# `unshare -n true` (the kernel's floor) in the busy one. Two ratios per level:
#   x empty host   busy/empty at the same moment: what the population costs a launch in its own host (its
#                  links, routes, the pool's occupancy), free of the machine's drift (a shared 2-core machine
#                  drifts by +-15% within a minute); the namespaces alive cost both hosts alike.
#   x level 0      busy now / busy at the first level: that plus what the population costs the kernel as a
#                  whole, plus the machine's drift, which the last level (0 again) shows.
#
# What can be measured honestly: the per-launch work that could grow with the number of sandboxes is the
# host's (its links, routes and the pool's occupancy) and the kernel's (namespaces alive). Only documentation
# addresses are allowed, so the largest pool is 203.0.113.0/24: 253 sandbox slots, and the veth names nsr<N>
# are shared by every pool of a host, so no second pool adds slots. The NAT population therefore stops at 250
# (the pool all but full: a launch finds a free slot after ~60 random probes instead of ~1), and 300
# --net=none sandboxes on top stand in for "300 running": each has its own network, pid and mount namespace,
# like a NAT one without the veth. The default last level, 0 again after stopping them all, shows drift.
# After every timed run, untimed, the bench waits until the finished sandbox's veth is gone (the kernel tears
# namespaces down asynchronously): with 250 of 253 slots taken, a few finished-but-not-yet-gone sandboxes
# would otherwise exhaust the pool (nsrun then refuses with status 125, "all 253 addresses are in use").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$here/common.sh"

levels="0 100 250 250+300 0"
rounds=200
warmup=5
pool=203.0.113.0/24
while (($#)); do
  case $1 in
    --levels) levels=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    *) echo "scale.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
: "${NSRUN:?NSRUN names the nsrun binary}" "${LAUNCH_BENCH:?LAUNCH_BENCH names the launch_bench binary}"
for level in $levels; do
  [[ $level =~ ^([0-9]+)(\+([0-9]+))?$ ]] || { echo "scale.sh: bad level '$level' (NAT or NAT+NONE)" >&2; exit 2; }
  ((BASH_REMATCH[1] <= 250)) || { echo "scale.sh: at most 250 NAT sandboxes fit the pool $pool" >&2; exit 2; }
done

ns="nsrun-scale-$$"
empty="nsrun-scale-$$-empty"
# sleep takes fractions: these durations mark our sandboxes' processes for pgrep, and bound their life (600 s)
# should this script be killed before its trap runs.
nat_mark="600.${$}1"
none_mark="600.${$}2"
nat_pids=()
none_pids=()
errlog=$(mktemp)
summary=$(mktemp)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local pids=("${nat_pids[@]}" "${none_pids[@]}")
  # SIGKILL to nsrun takes its sandbox with it (the init dies with its parent).
  ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$empty" 2>/dev/null || true
  rm -f "$errlog" "$summary"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
nat_up() { (($(bench_count_links "$ns" nsr) == ${#nat_pids[@]})); }
none_up() { (($(pgrep -c -x -f "sleep $none_mark" || true) == ${#none_pids[@]})); }

# set_population KIND COUNT
set_population() {
  local kind=$1 want=$2 mark net have i
  if [[ $kind == nat ]]; then mark=$nat_mark net=(--net=nat "--subnet=$pool" --subnet6=2001:db8:6e73::/64); else mark=$none_mark net=(--net=none); fi
  # shellcheck disable=SC2178  # a nameref to an array
  local -n pids=${kind}_pids
  have=${#pids[@]}
  if ((want > have)); then
    for ((i = have; i < want; i++)); do
      ip netns exec "$ns" "$NSRUN" "${net[@]}" -- sleep "$mark" </dev/null >/dev/null 2>>"$errlog" &
      pids+=($!)
      # In batches, so that set-up is not itself a 250-launch burst (bench/burst.sh measures that).
      if (((i + 1 - have) % 25 == 0 || i + 1 == want)); then
        if ! bench_wait 60 "${kind}_up"; then
          echo "scale.sh: $kind sandboxes did not all come up ($((i + 1)) started); their errors:" >&2
          sort "$errlog" | uniq -c | head -n 20 >&2
          exit 1
        fi
      fi
    done
  elif ((want < have)); then
    local stop=("${pids[@]:want}")
    pids=("${pids[@]:0:want}")
    kill -TERM "${stop[@]}" 2>/dev/null || true
    for i in "${stop[@]}"; do
      bench_wait 10 eval "! alive $i" || kill -KILL "$i" 2>/dev/null || true
      wait "$i" 2>/dev/null || true
    done
    # Namespaces are torn down asynchronously: a launch timed now must not count their veths.
    [[ $kind != nat ]] || bench_wait 30 nat_up || { echo "scale.sh: stopped sandboxes' veths linger" >&2; exit 1; }
  fi
}

uplink=$(bench_make_host "$ns")
bench_make_host "$empty" >/dev/null
echo "== scale: bench hosts $ns (busy) and $empty (uplink0 198.51.100.2/24, $uplink), pool $pool; levels: $levels; $rounds rounds each"

first_nat=
first_unshare=
max_total=-1
declare -A level_rows
index=0
for level in $levels; do
  nat=${level%%+*}
  none=0
  [[ $level != *+* ]] || none=${level#*+}
  set_population nat "$nat"
  set_population none "$none"
  : >"$summary"
  echo "-- $nat --net=nat and $none --net=none sandboxes running; $(cut -d' ' -f1-3 /proc/loadavg) load"
  # Each timed launch starts from the same state: the previous launch's veth torn down (--settle-links); the
  # order is shuffled each round, as a launch right after a NAT one pays part of its namespace's teardown.
  nat_cmd="$NSRUN --net=nat --subnet=$pool --subnet6=2001:db8:6e73::/64 -- true"
  ip netns exec "$ns" "$LAUNCH_BENCH" --no-progress --rounds "$rounds" --warmup "$warmup" --baseline unshare \
    --settle-links nsr --shuffle \
    --case "unshare=unshare -n true" \
    --case "nsrun-none=$NSRUN --net=none -- true" \
    --case "nsrun-nat=$nat_cmd" \
    --case "nat-empty-host=$nat_cmd" --case-netns "nat-empty-host=/run/netns/$empty" \
    --summary "$summary" | sed -n '/^case /,/^$/p'
  nat_ms=$(awk -F'\t' '$1 == "nsrun-nat" { print $3 }' "$summary")
  empty_ms=$(awk -F'\t' '$1 == "nat-empty-host" { print $3 }' "$summary")
  unshare_ms=$(awk -F'\t' '$1 == "unshare" { print $3 }' "$summary")
  [[ -n $first_nat ]] || { first_nat=$nat_ms; first_unshare=$unshare_ms; }
  ratio=$(bench_calc "$nat_ms / $empty_ms")
  sequential=$(bench_calc "$nat_ms / $first_nat")
  echo "   nsrun-nat $(bench_fmt "$ratio" 2)x the empty host's, $(bench_fmt "$sequential" 2)x the first level's;" \
    "unshare -n $(bench_fmt "$(bench_calc "$unshare_ms / $first_unshare")" 2)x the first level's"
  if ((nat + none == 0)); then
    what="0 running"
    ((index == 0)) || what="0 running (again, after stopping them: drift)"
  elif ((none == 0)); then
    what="$nat --net=nat running"
  elif ((nat == 0)); then
    what="$none --net=none running"
  else
    what="$nat --net=nat + $none --net=none running ($((nat + none)) namespaces)"
  fi
  level_rows[$index]="$what	$nat_ms	$ratio	$sequential"
  if ((nat + none > max_total)); then max_total=$((nat + none)) max_index=$index; fi
  index=$((index + 1))
done
set_population none 0
set_population nat 0

for ((i = 0; i < index; i++)); do
  IFS=$'\t' read -r what ms ratio sequential <<<"${level_rows[$i]}"
  goal=
  ((i != max_index || max_total == 0)) || goal=$(bench_goal "$ratio" '<=' 1.3 "launch with $what, x empty host")
  bench_row scale "\`nsrun --net=nat -- true\`, $what" "$(bench_fmt "$ms" 2) ms" \
    "$(bench_fmt "$ratio" 2)x empty host, $(bench_fmt "$sequential" 2)x level 0" "$goal"
done
