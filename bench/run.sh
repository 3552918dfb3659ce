#!/usr/bin/env bash
# nsrun's launch benchmark, in one command:   bash bench/run.sh [--rounds N]
#
# Builds nsrun and launch_bench if needed, makes a throwaway "bench host" network namespace with a dummy uplink
# (198.51.100.2/24, default route via 198.51.100.1; no packet has to flow to time a launch; a veth end stands in
# for the dummy where the kernel lacks that driver), and inside it runs
# launch_bench once, which times these interleaved, round by round:
#   unshare      unshare -n true                                   the floor: an empty network namespace
#   nsrun-none   nsrun --net=none -- true
#   nsrun-nat    nsrun --net=nat --subnet=203.0.113.0/25 -- true   veth pair + address + NAT
#   recipe       bash bench/recipe.sh                              the same by hand with ip(8) and iptables(8)
#   bwrap        bwrap --unshare-net --dev-bind / / true           when installed (no NAT: only lo)
#   firejail     firejail --quiet --noprofile --net=none true      when installed
# and prints medians with p10/p90 and the ratios nsrun-nat/unshare (target <= 2), recipe/nsrun-nat
# (target >= 15) and nsrun-none/unshare. The machine's own network namespace is never touched.
#
# nsrun's pool is the lower half of 203.0.113.0/24 and the recipe's addresses the upper half: `ip netns del`
# returns before the kernel has torn the namespace down, so a recipe's host veth and its route outlive the
# recipe by a moment, and nsrun rightly refuses a pool that overlaps a route the host has.
#
# Options:
#   --rounds N         timed rounds for the fast cases (default 200)
#   --slow-rounds N    timed rounds for recipe and firejail (default: the same as --rounds, at most 200)
#   --warmup N         untimed rounds first (default 5); they also pay nsrun's one-time nftables set-up
#   --raw FILE         also write every sample as CSV
#   --shuffle          draw each round's order at random (seeded) instead of rotating it
#   --skip-nsrun       benchmark the other cases when nsrun does not build (NSRUN=path picks a binary)
#   --fail-on-target   exit 3 when a ratio misses its target
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

rounds=200
slow_rounds=
warmup=5
raw=
skip_nsrun=0
fail_on_target=
shuffle=
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --slow-rounds) slow_rounds=${2:?--slow-rounds needs a number}; shift 2 ;;
    --slow-rounds=*) slow_rounds=${1#*=}; shift ;;
    --warmup) warmup=${2:?--warmup needs a number}; shift 2 ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --raw) raw=$(realpath -m "${2:?--raw needs a file}"); shift 2 ;;
    --raw=*) raw=$(realpath -m "${1#*=}"); shift ;;
    --skip-nsrun) skip_nsrun=1; shift ;;
    --fail-on-target) fail_on_target=--fail-on-target; shift ;;
    --shuffle) shuffle=--shuffle; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
for v in rounds warmup ${slow_rounds:+slow_rounds}; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${v/_/-} wants a whole number, got '${!v}'" >&2; exit 2; }
done
((rounds >= 1)) || { echo "run.sh: --rounds must be at least 1" >&2; exit 2; }
[[ -n $slow_rounds ]] || slow_rounds=$((rounds < 200 ? rounds : 200))
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
echo "== machine: $(nproc) cores, ${cpu:-unknown CPU}, $mem, kernel $(uname -r), $os"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== load average at start: $(load) (anything else running on the machine shows up as noise, mostly in p90)"
echo "== nsrun $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' (work tree has changes)'), $(date -u '+%Y-%m-%d %H:%M UTC')"

# --- build ---
build=$repo/build
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

# --- the bench host: a throwaway network namespace with a dummy uplink ---
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
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$bench_ns"
ip -n "$bench_ns" link set lo up
# A dummy interface when the kernel has the driver; else one end of a veth pair whose other end stays in the
# bench host, unaddressed: either way the uplink has carrier and nothing answers behind 198.51.100.1.
if ip -n "$bench_ns" link add uplink0 type dummy 2>/dev/null; then
  uplink_kind=dummy
else
  ip -n "$bench_ns" link add uplink0 type veth peer name uplink0p
  ip -n "$bench_ns" link set uplink0p up
  uplink_kind="veth, no dummy driver in this kernel"
fi
ip -n "$bench_ns" addr add 198.51.100.2/24 dev uplink0
ip -n "$bench_ns" link set uplink0 up
ip -n "$bench_ns" route add default via 198.51.100.1 dev uplink0

# --- the cases ---
cases=(--case "unshare=unshare -n true")
ratios=()
if ((have_nsrun)); then
  cases+=(--case "nsrun-none=$nsrun --net=none -- true"
          --case "nsrun-nat=$nsrun --net=nat --subnet=203.0.113.0/25 -- true")
  ratios+=(--ratio "nsrun-nat/unshare<=2" --ratio "recipe/nsrun-nat>=15" --ratio "nsrun-none/unshare"
           --ratio "nsrun-nat/nsrun-none")
fi
cases+=(--case "recipe=bash $repo/bench/recipe.sh" --case-rounds "recipe=$slow_rounds")
ratios+=(--ratio "recipe/unshare")
if command -v bwrap >/dev/null; then
  cases+=(--case "bwrap=bwrap --unshare-net --dev-bind / / true")
  ((have_nsrun)) && ratios+=(--ratio "nsrun-nat/bwrap")
else
  echo "== bwrap is not installed: its case is SKIPPED (apt-get install bubblewrap)"
fi
if command -v firejail >/dev/null; then
  cases+=(--case "firejail=firejail --quiet --noprofile --net=none true" --case-rounds "firejail=$slow_rounds")
  ((have_nsrun)) && ratios+=(--ratio "firejail/nsrun-nat")
else
  echo "== firejail is not installed: its case is SKIPPED (apt-get install firejail)"
fi

echo "== bench host: network namespace $bench_ns, uplink0 198.51.100.2/24 ($uplink_kind), nsrun's pool 203.0.113.0/25, recipe's 203.0.113.128/25"
rc=0
ip netns exec "$bench_ns" "$launch_bench" "${cases[@]}" "${ratios[@]}" --baseline unshare \
  --rounds "$rounds" --warmup "$warmup" --max-seconds 600 ${raw:+--raw "$raw"} $fail_on_target $shuffle || rc=$?
echo "== load average at the end: $(load)"
exit "$rc"
