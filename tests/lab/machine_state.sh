#!/usr/bin/env bash
# The machine's own network state, which no test may change, before and after the integration tests:
#   machine_state.sh save FILE     record it (the ctest fixture that runs before every integration test)
#   machine_state.sh check FILE    compare with FILE, print what changed and fail (the fixture after them all)
# Read-only: the forwarding and router-advertisement switches nsrun turns on inside namespaces, the links, the
# nftables tables and the iptables FORWARD rules of the network namespace ctest runs in.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

state() {
    for key in ipv4/ip_forward ipv6/conf/all/forwarding ipv6/conf/default/forwarding ipv6/conf/all/accept_ra \
               ipv6/conf/default/accept_ra; do
        echo "sysctl $key $(cat /proc/sys/net/$key 2>/dev/null || echo absent)"
    done
    # Not the host ends of sandboxes (nsr<N>): anyone's nsrun on this machine makes and removes them, and a
    # test's own are checked inside its lab. A test that ran nsrun here still shows in the tables and switches.
    ls /sys/class/net | grep -Ev '^nsr[0-9]+$' | sed 's/^/link /'
    if command -v nft >/dev/null; then nft list tables | sed 's/^/nft /'; fi
    for tool in iptables ip6tables; do
        if command -v $tool >/dev/null; then $tool -S FORWARD | sed "s/^/$tool /"; fi
    done
}

case ${1-}:${2-} in
save:?*) state >"$2" ;;
check:?*)
    [[ -s $2 ]] || { echo "machine_state.sh: no saved state in $2 (the 'before' fixture did not run)" >&2; exit 1; }
    if ! diff -u "$2" <(state) >&2; then
        echo "machine_state.sh: the tests changed the machine's network state (- before, + after)" >&2
        exit 1
    fi ;;
*) echo "usage: machine_state.sh save|check FILE" >&2; exit 2 ;;
esac
