#!/usr/bin/env bash
# Many launches at once: bash bench/burst.sh [--copies 200] [--rounds 5]
# (normally run by bench/run.sh, which passes NSRUN, LAUNCH_BENCH, BENCH_ROWS and BENCH_MISSED).
#
# In a throwaway bench host, each timed run starts COPIES `nsrun --net=nat -- true` at once and lasts from the
# first start to the last exit; every one must exit 0. Interleaved with the same burst of `unshare -n true` (the
# kernel's floor) and of `nsrun --net=none -- true`. Between runs, untimed, the previous burst's veths must be
# gone (network namespaces are torn down asynchronously; the pool 203.0.113.0/24 has 253 slots).
# One untimed burst first: in a new host it also installs nsrun's nftables table, with COPIES launches
# finding it missing at once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$here/common.sh"

copies=200
rounds=5
pool=203.0.113.0/24
while (($#)); do
  case $1 in
    --copies) copies=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    *) echo "burst.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
: "${NSRUN:?NSRUN names the nsrun binary}" "${LAUNCH_BENCH:?LAUNCH_BENCH names the launch_bench binary}"
((copies >= 1 && copies <= 250)) || { echo "burst.sh: --copies must be 1..250 (the pool $pool)" >&2; exit 2; }

ns="nsrun-burst-$$"
summary=$(mktemp)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -f "$summary"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

uplink=$(bench_make_host "$ns")
echo "== burst: bench host $ns (uplink0 198.51.100.2/24, $uplink), pool $pool; $copies at once, $rounds rounds"
ip netns exec "$ns" "$LAUNCH_BENCH" --no-progress --rounds "$rounds" --warmup 1 --baseline unshare \
  --concurrent "$copies" --settle-links nsr --timeout 120 \
  --case "unshare=unshare -n true" \
  --case "nsrun-none=$NSRUN --net=none -- true" \
  --case "nsrun-nat=$NSRUN --net=nat --subnet=$pool --subnet6=2001:db8:6e73::/64 -- true" \
  --summary "$summary" | sed -n '/^case /,/^$/p'

median() { awk -F'\t' -v c="$1" '$1 == c { print $3 }' "$summary"; }
unshare_ms=$(median unshare)
for c in unshare nsrun-none nsrun-nat; do
  ms=$(median "$c")
  case $c in
    unshare) what="$copies × \`unshare -n true\` at once (floor)" ;;
    nsrun-none) what="$copies × \`nsrun --net=none -- true\` at once" ;;
    nsrun-nat) what="$copies × \`nsrun --net=nat -- true\` at once, all succeed" ;;
  esac
  per=$(bench_fmt "$(bench_calc "$ms / $copies")" 2)
  bench_row burst "$what" "$(bench_fmt "$(bench_calc "$ms / 1000")" 2) s ($per ms each)" \
    "$(bench_fmt "$(bench_calc "$ms / $unshare_ms")" 2)x floor"
done
