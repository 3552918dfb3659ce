#!/usr/bin/env bash
# TCP throughput out of a sandbox: bash bench/tcp.sh [--seconds 3] [--reps 5]
# (normally run by bench/run.sh, which passes NSRUN, BENCH_ROWS and BENCH_MISSED).
#
# Two labs of tests/lab/lab.sh (NAME-host with an uplink veth to NAME-inet, "the internet"), an iperf3 server
# on 198.51.100.1 in each lab's internet, and one iperf3 client (-t SECONDS, receiver's rate) per path,
# interleaved, REPS times, medians:
#   routed   a hand-made namespace behind lab B's host: veth, 203.0.113.130/30, the host forwarding without any
#            NAT (and so without conntrack: no nftables at all in that host), the internet routing
#            203.0.113.128/30 back to it. The same veth -> host -> uplink veth path, same MTU (1500).
#   nat      `nsrun --net=nat -- iperf3 ...` in lab A's host: the same path plus masquerade and conntrack.
#   slirp    slirp4netns (the rootless way: a user-space TCP/IP stack) for a namespace of lab A's host, with
#            --mtu=65520 as podman runs it (its fastest setting) and --cidr=203.0.113.0/24 (documentation
#            addresses instead of its default 10.0.2.0/24).
# Goals: nat >= 0.95x routed, nat >= 4x slirp. slirp is skipped when slirp4netns is not installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=bench/common.sh
source "$here/common.sh"

seconds=3
reps=5
while (($#)); do
  case $1 in
    --seconds) seconds=${2:?}; shift 2 ;;
    --reps) reps=${2:?}; shift 2 ;;
    *) echo "tcp.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
: "${NSRUN:?NSRUN names the nsrun binary}"
command -v iperf3 >/dev/null || { echo "tcp.sh: iperf3 is missing: bash scripts/install-deps.sh" >&2; exit 1; }
lab=$repo/tests/lab/lab.sh
a="bta$$"
b="btb$$"
sleeper=
slirp=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  [[ -z $slirp ]] || kill -KILL "$slirp" 2>/dev/null || true
  [[ -z $sleeper ]] || kill -KILL "$sleeper" 2>/dev/null || true
  wait 2>/dev/null || true
  bash "$lab" down "$a" || true
  bash "$lab" down "$b" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$lab" up "$a"
bash "$lab" up "$b"
for l in "$a" "$b"; do
  ip netns exec "$l-inet" iperf3 -s -D -B 198.51.100.1 -p 5201
  bench_wait 5 eval "ip netns exec $l-inet ss -Hltn 'sport = :5201' | grep -q ." ||
    { echo "tcp.sh: iperf3 server in $l-inet did not start" >&2; exit 1; }
done
bash "$lab" add-ns "$b" cl 203.0.113.129/30 203.0.113.130/30
ip netns exec "$b-inet" ip route add 203.0.113.128/30 via 198.51.100.2
ip netns exec "$b-host" sysctl -qw net.ipv4.ip_forward=1

paths=(routed nat)
if command -v slirp4netns >/dev/null; then
  paths+=(slirp)
  # `unshare -n` execs sleep in a new network namespace; slirp4netns must join that one, not the lab host's.
  ip netns exec "$a-host" unshare -n sleep 600 </dev/null &
  sleeper=$!
  host_netns=$(ip netns exec "$a-host" readlink /proc/self/ns/net)
  in_own_netns() { [[ $(readlink "/proc/$sleeper/ns/net" 2>/dev/null) != "$host_netns" && $(cat "/proc/$sleeper/comm") == sleep ]]; }
  bench_wait 5 in_own_netns || { echo "tcp.sh: the slirp sandbox did not start" >&2; exit 1; }
  ip netns exec "$a-host" slirp4netns --configure --mtu=65520 --disable-host-loopback --cidr=203.0.113.0/24 \
    "$sleeper" tap0 </dev/null >/dev/null 2>&1 &
  slirp=$!
  bench_wait 10 eval "nsenter -t $sleeper -n ip -4 -o addr show tap0 2>/dev/null | grep -q inet" ||
    { echo "tcp.sh: slirp4netns did not configure tap0" >&2; exit 1; }
else
  echo "== tcp: slirp4netns is not installed: its path is SKIPPED (apt-get install slirp4netns)"
fi

client=(iperf3 -c 198.51.100.1 -p 5201 -t "$seconds" -J --connect-timeout 3000)
gbits() { python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'; }
run_path() {
  local limit=$((seconds + 20))
  case $1 in
    routed) timeout "$limit" bash "$lab" in "$b" cl "${client[@]}" ;;
    nat) timeout "$limit" bash "$lab" exec "$a" "$NSRUN" --net=nat --subnet=203.0.113.0/24 --subnet6=2001:db8:6e73::/64 -- "${client[@]}" ;;
    slirp) timeout "$limit" nsenter -t "$sleeper" -n "${client[@]}" ;;
  esac
}

echo "== tcp: iperf3 -t $seconds, $reps rounds interleaved; paths: ${paths[*]}"
declare -A results
for ((r = 0; r < reps; r++)); do
  n=${#paths[@]}
  for ((k = 0; k < n; k++)); do
    path=${paths[(r + k) % n]}
    json=$(run_path "$path") || { echo "tcp.sh: iperf3 over the $path path failed:" >&2; echo "$json" | tail -n 5 >&2; exit 1; }
    rate=$(gbits <<<"$json")
    printf '   round %d %-7s %6.2f Gbit/s\n' "$((r + 1))" "$path" "$rate"
    results[$path]+=" $rate"
  done
done

# shellcheck disable=SC2086  # word splitting of the collected rates is intended
routed=$(bench_median ${results[routed]})
# shellcheck disable=SC2086
nat=$(bench_median ${results[nat]})
ratio=$(bench_calc "$nat / $routed")
bench_row tcp "TCP, veth routed without NAT (baseline)" "$(bench_fmt "$routed" 1) Gbit/s" "1.00x"
bench_row tcp "TCP through \`nsrun --net=nat\`" "$(bench_fmt "$nat" 1) Gbit/s" "$(bench_fmt "$ratio" 2)x routed" \
  "$(bench_goal "$ratio" '>=' 0.95 "TCP nsrun --net=nat x routed")"
if [[ -n ${results[slirp]:-} ]]; then
  # shellcheck disable=SC2086
  slirp_rate=$(bench_median ${results[slirp]})
  times=$(bench_calc "$nat / $slirp_rate")
  bench_row tcp "TCP through slirp4netns (MTU 65520)" "$(bench_fmt "$slirp_rate" 1) Gbit/s" \
    "nsrun $(bench_fmt "$times" 1)x slirp" "$(bench_goal "$times" '>=' 4 "TCP nsrun x slirp4netns")"
fi
