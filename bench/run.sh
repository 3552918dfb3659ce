#!/usr/bin/env bash
# nsrun's performance record, in one command:   bash bench/run.sh [--quick] [--markdown] [--parts LIST]
#
# Builds nsrun and launch_bench if needed, runs the parts below (each in throwaway network namespaces of its
# own; the machine's own network namespace is never touched), and closes with one table of medians, ratios and
# goals, with the machine at the top (--markdown: as a markdown table README can quote). The parts, with
# their time on a 2-core machine (about 8 minutes in all; --quick about 2):
#   launch   launch latency of nsrun and its alternatives (below)                              ~30 s
#   scale    `nsrun --net=nat -- true` with 0, 100, 250 sandboxes running (bench/scale.sh)     ~4 min
#   burst    200 `nsrun --net=nat -- true` at once (bench/burst.sh)                            ~30 s
#   tcp      TCP through --net=nat vs routed without NAT vs slirp4netns (bench/tcp.sh)          ~1.5 min
#   memory   nsrun's peak RSS while it supervises, vs bwrap and firejail (bench/memory.sh)     ~40 s
# Anything else running on the machine shows up as noise: the load average is printed at both ends, and a
# record for README wants a quiet machine.
#
# The launch part makes a throwaway "bench host" network namespace with a dummy uplink
# (198.51.100.2/24, default route via 198.51.100.1; no packet has to flow to time a launch; a veth end stands in
# for the dummy where the kernel lacks that driver), and inside it runs
# launch_bench once, which times these interleaved, round by round:
#   unshare      unshare -n true                                   the floor: an empty network namespace
#   nsrun-none   nsrun --net=none -- true
#   nsrun-nat    nsrun --net=nat --subnet=203.0.113.0/25 --subnet6=2001:db8:6e73::/64 -- true   veth pair + address + NAT
#   recipe       bash bench/recipe.sh                              the same by hand with ip(8) and iptables(8)
#   bwrap        bwrap --unshare-net --dev-bind / / true           when installed (no NAT: only lo)
#   bwrap-view   bwrap --unshare-all --uid 0 --gid 0 --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp
#                --tmpfs /run true                                 nsrun's default isolation, done by bwrap
#   firejail     firejail --quiet --noprofile --net=none true      when installed
# and prints medians with p10/p90 and the ratios nsrun-nat/unshare (target <= 2), recipe/nsrun-nat
# (target >= 15), nsrun-none/bwrap-view (target <= 1) and nsrun-none/unshare. The machine's own network namespace is never touched.
#
# nsrun's pool is the lower half of 203.0.113.0/24 and the recipe's addresses the upper half: `ip netns del`
# returns before the kernel has torn the namespace down, so a recipe's host veth and its route outlive the
# recipe by a moment, and nsrun rightly refuses a pool that overlaps a route the host has.
#
# Options:
#   --parts LIST       comma-separated parts to run (default: launch,scale,burst,tcp,memory)
#   --skip LIST        parts not to run, e.g. --skip scale
#   --quick            fewer rounds everywhere (~2 min in all): for a look, not for the record
#   --markdown         print the closing table as markdown
#   --rounds N         timed rounds for the fast cases of the launch part (default 200)
#   --slow-rounds N    timed rounds for recipe and firejail (default: the same as --rounds, at most 200)
#   --warmup N         untimed rounds first (default 5); they also pay nsrun's one-time nftables set-up
#   --raw FILE         also write every sample as CSV
#   --shuffle          draw each round's order at random (seeded) instead of rotating it
#   --skip-nsrun       benchmark the other cases when nsrun does not build (NSRUN=path picks a binary)
#   --scale-levels L   the scale part's levels, NAT[+NONE] each (default "0 100 250 250+300 0"; see scale.sh)
#   --scale-rounds N   timed rounds per level (default 200)
#   --burst-copies N   launches at once in the burst part (default 200)
#   --burst-rounds N   timed bursts (default 5)
#   --tcp-seconds N    length of one iperf3 run (default 3)
#   --tcp-reps N       iperf3 runs per path (default 5)
#   --fail-on-target   exit 3 when a goal is missed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

rounds=200
slow_rounds=
warmup=5
raw=
skip_nsrun=0
fail_on_target=0
shuffle=
parts=launch,scale,burst,tcp,memory
skip=
quick=0
markdown=0
scale_levels="0 100 250 250+300 0"
scale_rounds=
burst_copies=200
burst_rounds=
tcp_seconds=3
tcp_reps=
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --parts) parts=${2:?--parts needs a list}; shift 2 ;;
    --parts=*) parts=${1#*=}; shift ;;
    --skip) skip=${2:?--skip needs a list}; shift 2 ;;
    --skip=*) skip=${1#*=}; shift ;;
    --quick) quick=1; shift ;;
    --markdown) markdown=1; shift ;;
    --scale-levels) scale_levels=${2:?}; shift 2 ;;
    --scale-levels=*) scale_levels=${1#*=}; shift ;;
    --scale-rounds) scale_rounds=${2:?}; shift 2 ;;
    --scale-rounds=*) scale_rounds=${1#*=}; shift ;;
    --burst-copies) burst_copies=${2:?}; shift 2 ;;
    --burst-copies=*) burst_copies=${1#*=}; shift ;;
    --burst-rounds) burst_rounds=${2:?}; shift 2 ;;
    --burst-rounds=*) burst_rounds=${1#*=}; shift ;;
    --tcp-seconds) tcp_seconds=${2:?}; shift 2 ;;
    --tcp-seconds=*) tcp_seconds=${1#*=}; shift ;;
    --tcp-reps) tcp_reps=${2:?}; shift 2 ;;
    --tcp-reps=*) tcp_reps=${1#*=}; shift ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --slow-rounds) slow_rounds=${2:?--slow-rounds needs a number}; shift 2 ;;
    --slow-rounds=*) slow_rounds=${1#*=}; shift ;;
    --warmup) warmup=${2:?--warmup needs a number}; shift 2 ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --raw) raw=$(realpath -m "${2:?--raw needs a file}"); shift 2 ;;
    --raw=*) raw=$(realpath -m "${1#*=}"); shift ;;
    --skip-nsrun) skip_nsrun=1; shift ;;
    --fail-on-target) fail_on_target=1; shift ;;
    --shuffle) shuffle=--shuffle; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if ((quick)); then
  [[ $rounds != 200 ]] || rounds=50
  [[ -n $slow_rounds ]] || slow_rounds=10
  : "${scale_rounds:=50}" "${burst_rounds:=2}" "${tcp_reps:=1}"
fi
: "${scale_rounds:=200}" "${burst_rounds:=5}" "${tcp_reps:=5}"
for v in rounds warmup ${slow_rounds:+slow_rounds} scale_rounds burst_copies burst_rounds tcp_seconds tcp_reps; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${v/_/-} wants a whole number, got '${!v}'" >&2; exit 2; }
done
for v in rounds scale_rounds burst_copies burst_rounds tcp_seconds tcp_reps; do
  ((${!v} >= 1)) || { echo "run.sh: --${v/_/-} must be at least 1" >&2; exit 2; }
done
[[ -n $slow_rounds ]] || slow_rounds=$((rounds < 200 ? rounds : 200))
declare -A run_part=()
for p in ${parts//,/ }; do
  case $p in
    launch|scale|burst|tcp|memory) run_part[$p]=1 ;;
    *) echo "run.sh: unknown part '$p' (launch, scale, burst, tcp, memory)" >&2; exit 2 ;;
  esac
done
for p in ${skip//,/ }; do unset "run_part[$p]"; done
wants() { [[ -n ${run_part[$1]:-} ]]; }
((slow_rounds >= 1)) || { echo "run.sh: --slow-rounds must be at least 1" >&2; exit 2; }

if ((EUID != 0)); then
  echo "run.sh: run it as root: it makes network namespaces, veths and NAT rules (in a throwaway namespace)" >&2
  exit 1
fi
for tool in ip iptables unshare cmake; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is missing: bash scripts/install-deps.sh" >&2; exit 1; }
done

# --- the machine, for the README to quote ---
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null)
machine="$(nproc) cores, ${cpu:-unknown CPU}, $mem, kernel $(uname -r), $os"
echo "== machine: $machine"
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)
echo "== load average at start: $load_start (anything else running on the machine shows up as noise, mostly in p90)"
version="nsrun $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' (work tree has changes)'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== $version"

# --- build ---
build=${BENCH_BUILD:-$repo/build}   # BENCH_BUILD picks another build directory
launch_bench=$build/bench/launch_bench
nsrun=${NSRUN:-$build/cmd/nsrun}
build_log=$(mktemp)
configured=1
if [[ ! -f $build/CMakeCache.txt ]]; then
  echo "== configuring $build"
  cmake -S "$repo" -B "$build" >"$build_log" 2>&1 || configured=0
fi
if ((configured)) && cmake --build "$build" --target help 2>/dev/null | grep -qw launch_bench; then
  if ! cmake --build "$build" --target launch_bench >>"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    echo "run.sh: launch_bench did not build" >&2
    exit 1
  fi
elif [[ ! -x $launch_bench || $repo/bench/launch_bench.cc -nt $launch_bench ]]; then
  # The CMake build does not include bench/ (yet), or does not configure: the driver needs only libc.
  echo "== compiling launch_bench by hand (no launch_bench target in $build)"
  mkdir -p "$build/bench"
  "${CXX:-c++}" -std=c++20 -O2 -Wall -Wextra -Werror -o "$launch_bench" "$repo/bench/launch_bench.cc"
fi
have_nsrun=1
if [[ -z ${NSRUN:-} ]]; then
  ((configured)) && cmake --build "$build" -j "$(nproc)" --target nsrun >>"$build_log" 2>&1 || have_nsrun=0
fi
[[ -x $nsrun ]] || have_nsrun=0
if ((!have_nsrun)); then
  if ((!skip_nsrun)); then
    tail -n 30 "$build_log" >&2
    echo "run.sh: nsrun did not build ($nsrun); fix the build, or pass --skip-nsrun to time the others" >&2
    rm -f "$build_log"
    exit 1
  fi
  echo "== nsrun did not build: its cases are SKIPPED (--skip-nsrun)"
fi
rm -f "$build_log"

# --- the closing table's rows and missed goals, written by every part (bench/common.sh) ---
# shellcheck source=bench/common.sh
source "$repo/bench/common.sh"
BENCH_ROWS=$(mktemp)
BENCH_MISSED=$(mktemp)
launch_summary=$(mktemp)
export BENCH_ROWS BENCH_MISSED NSRUN=$nsrun LAUNCH_BENCH=$launch_bench

# --- the launch part, in a bench host of its own ---
bench_ns="nsrun-bench-$$"
export RECIPE_PREFIX="nsrb$$r"   # recipe.sh names its namespaces "$RECIPE_PREFIX-<pid>"
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local ns n=0
  # Namespaces a killed recipe run left behind (bounded: at most one per round, and we stop at 1000).
  while read -r ns _ && ((n++ < 1000)); do
    [[ $ns == "$RECIPE_PREFIX"-* ]] && ip netns del "$ns" 2>/dev/null
  done < <(ip netns list 2>/dev/null)
  ip netns del "$bench_ns" 2>/dev/null || true   # its veths, addresses and NAT rules go with it
  rm -f "$BENCH_ROWS" "$BENCH_MISSED" "$launch_summary"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
part_failed() { echo "run.sh: the $1 part failed (status $2); the other parts go on" >&2; rc=1; }

# bubblewrap giving a program what nsrun's defaults give it: uid 0 in its own user namespace, every namespace
# new, a read-only host view, its own /dev, /proc, /tmp and /run.
bwrap_view="bwrap --unshare-all --uid 0 --gid 0 --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --tmpfs /run true"
if wants launch; then
  uplink_kind=$(bench_make_host "$bench_ns")
  cases=(--case "unshare=unshare -n true")
  ratios=()
  if ((have_nsrun)); then
    cases+=(--case "nsrun-none=$nsrun --net=none -- true"
            --case "nsrun-nat=$nsrun --net=nat --subnet=203.0.113.0/25 --subnet6=2001:db8:6e73::/64 -- true")
    ratios+=(--ratio "nsrun-nat/unshare<=2" --ratio "recipe/nsrun-nat>=15" --ratio "nsrun-none/unshare"
             --ratio "nsrun-nat/nsrun-none")
  fi
  cases+=(--case "recipe=bash $repo/bench/recipe.sh" --case-rounds "recipe=$slow_rounds")
  ratios+=(--ratio "recipe/unshare")
  if command -v bwrap >/dev/null; then
    cases+=(--case "bwrap=bwrap --unshare-net --dev-bind / / true"
            --case "bwrap-view=$bwrap_view")
    ((have_nsrun)) && ratios+=(--ratio "nsrun-nat/bwrap" --ratio "nsrun-none/bwrap-view<=1")
  else
    echo "== bwrap is not installed: its case is SKIPPED (apt-get install bubblewrap)"
  fi
  if command -v firejail >/dev/null; then
    cases+=(--case "firejail=firejail --quiet --noprofile --net=none true" --case-rounds "firejail=$slow_rounds")
    ((have_nsrun)) && ratios+=(--ratio "firejail/nsrun-nat")
  else
    echo "== firejail is not installed: its case is SKIPPED (apt-get install firejail)"
  fi

  echo "== launch: bench host $bench_ns, uplink0 198.51.100.2/24 ($uplink_kind), nsrun's pool 203.0.113.0/25, recipe's 203.0.113.128/25"
  status=0
  ip netns exec "$bench_ns" "$launch_bench" "${cases[@]}" "${ratios[@]}" --baseline unshare \
    --rounds "$rounds" --warmup "$warmup" --max-seconds 600 ${raw:+--raw "$raw"} $shuffle \
    --summary "$launch_summary" || status=$?
  ip netns del "$bench_ns" 2>/dev/null || true
  if ((status)); then
    part_failed launch "$status"
  else
    median() { awk -F'\t' -v c="$1" '$1 == c { print $3 }' "$launch_summary"; }
    floor=$(median unshare)
    nat=$(median nsrun-nat)
    x() { bench_fmt "$(bench_calc "$1 / $2")" "${3:-2}"; }
    ms() { echo "$(bench_fmt "$1" 2) ms"; }
    bench_row launch "\`unshare -n true\` (the floor: an empty network namespace)" "$(ms "$floor")" "1.00x floor"
    if [[ -n $nat ]]; then
      bench_row launch "\`nsrun --net=none -- true\`" "$(ms "$(median nsrun-none)")" "$(x "$(median nsrun-none)" "$floor")x floor"
      bench_row launch "\`nsrun --net=nat -- true\`" "$(ms "$nat")" "$(x "$nat" "$floor")x floor" \
        "$(bench_goal "$(bench_calc "$nat / $floor")" '<=' 2 "launch nsrun-nat x unshare")"
    fi
    recipe=$(median recipe)
    if [[ -n $nat ]]; then
      bench_row launch "the same by hand: ip(8) + iptables(8) (bench/recipe.sh)" "$(ms "$recipe")" "$(x "$recipe" "$nat" 1)x nsrun-nat" \
        "$(bench_goal "$(bench_calc "$recipe / $nat")" '>=' 15 "launch recipe x nsrun-nat")"
    else
      bench_row launch "the same by hand: ip(8) + iptables(8) (bench/recipe.sh)" "$(ms "$recipe")" "$(x "$recipe" "$floor" 1)x floor"
    fi
    if [[ -n $(median bwrap) ]]; then
      bench_row launch "\`bwrap --unshare-net --dev-bind / / true\` (no NAT: only lo)" "$(ms "$(median bwrap)")" "$(x "$(median bwrap)" "$floor")x floor"
      view=$(median bwrap-view)
      if [[ -n $view && -n $nat ]]; then
        bench_row launch "\`${bwrap_view% true}\` \`true\` (nsrun's default isolation, no network)" "$(ms "$view")" \
          "nsrun-none $(x "$(median nsrun-none)" "$view")x" \
          "$(bench_goal "$(bench_calc "$(median nsrun-none) / $view")" '<=' 1 "launch nsrun-none x bwrap-view")"
      fi
    fi
    if [[ -n $(median firejail) ]]; then
      if [[ -n $nat ]]; then versus="$(x "$(median firejail)" "$nat" 0)x nsrun-nat"; else versus="$(x "$(median firejail)" "$floor" 0)x floor"; fi
      bench_row launch "\`firejail --quiet --noprofile --net=none true\`" "$(ms "$(median firejail)")" "$versus"
    fi
  fi
fi

# --- the other parts: each makes and removes its own namespaces ---
if ((have_nsrun)); then
  if wants scale; then
    echo
    bash "$repo/bench/scale.sh" --levels "$scale_levels" --rounds "$scale_rounds" || part_failed scale $?
  fi
  if wants burst; then
    echo
    bash "$repo/bench/burst.sh" --copies "$burst_copies" --rounds "$burst_rounds" || part_failed burst $?
  fi
  if wants tcp; then
    echo
    bash "$repo/bench/tcp.sh" --seconds "$tcp_seconds" --reps "$tcp_reps" || part_failed tcp $?
  fi
  if wants memory; then
    echo
    bash "$repo/bench/memory.sh" --reps "$( ((quick)) && echo 3 || echo 5)" || part_failed memory $?
  fi
else
  for p in scale burst tcp memory; do wants "$p" && echo "== $p: SKIPPED (no nsrun)"; done
fi

# --- the closing table ---
echo
echo "== load average at the end: $(load)"
echo
title="nsrun benchmark: $machine; $version; load average $load_start at the start, $(load) at the end"
if ((markdown)); then
  echo "$title"
  echo
  echo "| part | measurement | median | ratio | goal |"
  echo "| --- | --- | ---: | ---: | --- |"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$BENCH_ROWS"
else
  echo "$title"
  awk -F'\t' '
    { for (i = 1; i <= 5; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
    END {
      split("part|measurement|median|ratio|goal", head, "|")
      for (i = 1; i <= 5; i++) if (length(head[i]) > w[i]) w[i] = length(head[i])
      for (i = 1; i <= 5; i++) printf "%-*s%s", w[i], head[i], (i < 5 ? "  " : "\n")
      for (r = 1; r <= NR; r++)
        for (i = 1; i <= 5; i++) printf "%" (i == 3 || i == 4 ? "" : "-") "*s%s", w[i], cell[r, i], (i < 5 ? "  " : "\n")
    }' "$BENCH_ROWS"
fi
if [[ -s $BENCH_MISSED ]]; then
  echo
  echo "goals missed:"
  sed 's/^/  /' "$BENCH_MISSED"
  ((!fail_on_target)) || { ((rc)) || rc=3; }
fi
exit "$rc"
