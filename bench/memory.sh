#!/usr/bin/env bash
# The launcher's own memory while it supervises: bash bench/memory.sh [--reps 5]
# (normally run by bench/run.sh, which passes NSRUN, BENCH_ROWS and BENCH_MISSED).
#
# In a throwaway bench host, starts the launcher around `sleep 1` and reads VmHWM (peak resident set) from
# /proc/PID/status of the launcher's own process (the pid it was started as; the sandboxed program is another
# process) every 20 ms until it exits; the last reading is its peak over the whole run. Median of REPS runs.
#   nsrun     nsrun --net=nat -- sleep 1                     goal <= 6 MiB; its first launch in the host, which
#             also loads libnftables to install the shared table, is reported on its own
#   bwrap     bwrap --unshare-net --dev-bind / / sleep 1     (its monitoring parent)   when installed
#   firejail  firejail --quiet --noprofile --net=none sleep 1 (its supervising parent) when installed
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/common.sh
source "$here/common.sh"

reps=5
while (($#)); do
  case $1 in
    --reps) reps=${2:?}; shift 2 ;;
    *) echo "memory.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
: "${NSRUN:?NSRUN names the nsrun binary}"

ns="nsrun-mem-$$"
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_make_host "$ns" >/dev/null

# peak_kib CMD...: VmHWM of CMD's process (kB), read until it exits. `ip netns exec` execs CMD in place, so
# $! is the launcher itself.
peak_kib() {
  local pid hwm=0 value i
  ip netns exec "$ns" "$@" </dev/null >/dev/null 2>&1 &
  pid=$!
  for ((i = 0; i < 1500; i++)); do  # at most 30 s
    value=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || true
    [[ -z $value ]] || hwm=$value
    [[ -n $value ]] || break  # gone (a zombie has no VmHWM line)
    sleep 0.02
  done
  if ! wait "$pid"; then
    echo "memory.sh: '$*' failed" >&2
    return 1
  fi
  echo "$hwm"
}

declare -A cmds=(
  [nsrun]="$NSRUN --net=nat --subnet=203.0.113.0/24 --subnet6=2001:db8:6e73::/64 -- sleep 1"
  [bwrap]="bwrap --unshare-net --dev-bind / / sleep 1"
  [firejail]="firejail --quiet --noprofile --net=none sleep 1"
)
echo "== memory: VmHWM of the launcher's process around sleep 1, $reps runs each"
nsrun_mib=
for tool in nsrun bwrap firejail; do
  if [[ $tool != nsrun ]] && ! command -v "$tool" >/dev/null; then
    echo "   $tool is not installed: SKIPPED"
    continue
  fi
  samples=()
  if [[ $tool == nsrun ]]; then
    # The first NAT launch in a host also installs the shared table, through libnftables in a short-lived helper
    # process of its own (not counted here: it is not the supervisor); later launches do not.
    # shellcheck disable=SC2086
    first=$(peak_kib ${cmds[$tool]})
    echo "   nsrun, first launch in this host: $first kB"
    bench_row memory "nsrun's peak RSS, first \`--net=nat\` launch in a host (installs the nftables table)" \
      "$(bench_fmt "$(bench_calc "$first / 1024")" 1) MiB" "" \
      "$(bench_goal "$(bench_calc "$first / 1024")" '<=' 6 "nsrun peak RSS (first launch) MiB")"
  fi
  for ((r = 0; r < reps; r++)); do
    # shellcheck disable=SC2086  # the command line is split on blanks on purpose
    samples+=("$(peak_kib ${cmds[$tool]})")
  done
  mib=$(bench_calc "$(bench_median "${samples[@]}") / 1024")
  echo "   $tool: ${samples[*]} kB"
  case $tool in
    nsrun)
      nsrun_mib=$mib
      bench_row memory "nsrun's peak RSS supervising \`--net=nat -- sleep 1\` (table in place)" "$(bench_fmt "$mib" 1) MiB" "" \
        "$(bench_goal "$mib" '<=' 6 "nsrun peak RSS MiB")" ;;
    *)
      bench_row memory "$tool's peak RSS (\`${cmds[$tool]}\`)" "$(bench_fmt "$mib" 1) MiB" \
        "nsrun $(bench_fmt "$(bench_calc "$nsrun_mib / $mib")" 2)x" ;;
  esac
done
