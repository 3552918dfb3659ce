#!/usr/bin/env bash
# The hand-made way to give one program its own network namespace with NAT, as the classic ip-netns article
# teaches it and as a person would type it: one launch of `true`, set-up and tear-down included. bench/run.sh
# times this against nsrun. Run it as root, in a network namespace you can throw away (run.sh's bench host):
# it adds a veth, an address and a MASQUERADE rule to the namespace it runs in, and removes them again.
#
# Names carry this shell's pid so runs never collide; RECIPE_PREFIX (set by run.sh) lets a caller find and
# remove what a killed run left behind. Addresses are documentation ones: a /30 from 203.0.113.128/25 picked by
# pid, the host end .1 of it and the sandbox .2, like the article's 10.200.1.1 and .2. The lower half is
# nsrun's pool in run.sh: the host veth outlives `ip netns del` by a moment (the kernel tears namespaces down
# asynchronously), and nsrun refuses a pool that overlaps a host route.
set -euo pipefail

prefix=${RECIPE_PREFIX:-nsrbench-recipe}
ns="$prefix-$$"
host_if="rcph$$"     # interface names are at most 15 characters; pids are at most 7 digits
sbx_if="rcps$$"
block=$((128 + 4 * ($$ % 32)))
host_ip="203.0.113.$((block + 1))"
sbx_ip="203.0.113.$((block + 2))"

# Only for a run that fails half-way: the successful path below tears down by hand, as the person would.
rule_added=0
cleanup_on_error() {
  ((rule_added)) && iptables -t nat -D POSTROUTING -s "$sbx_ip" -j MASQUERADE 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "$host_if" 2>/dev/null
  return 0
}
on_exit() {
  local rc=$?
  ((rc == 0)) || cleanup_on_error
  exit "$rc"
}
trap on_exit EXIT

# --- set up ---
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$sbx_if"
ip link set "$sbx_if" netns "$ns"
ip addr add "$host_ip/30" dev "$host_if"
ip netns exec "$ns" ip addr add "$sbx_ip/30" dev "$sbx_if"
ip link set "$host_if" up
ip netns exec "$ns" ip link set "$sbx_if" up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip route add default via "$host_ip"
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -t nat -A POSTROUTING -s "$sbx_ip" -j MASQUERADE
rule_added=1

# --- the program ---
ip netns exec "$ns" true

# --- tear down (the veth goes with the namespace) ---
iptables -t nat -D POSTROUTING -s "$sbx_ip" -j MASQUERADE
rule_added=0
ip netns del "$ns"
