// IPv6 forwarding for dual-stack sandboxes, without breaking the host's own IPv6.
//
// net.ipv6.conf.all.forwarding=1 turns every interface into a router interface, and a router interface with
// accept_ra=1 ignores router advertisements: the kernel even purges the default routes it learnt from them
// at once (rt6_purge_dflt_routers), so a host configured by SLAAC would lose IPv6 within minutes. accept_ra=2
// means "accept them even when forwarding", so nsrun moves every accept_ra=1 to 2 first (including
// conf/default, for interfaces that appear later) and only then turns forwarding on: the host keeps taking
// its addresses and routes from advertisements exactly as before. Interfaces with accept_ra=0 (NetworkManager
// and systemd-networkd handle advertisements in user space) are left alone.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace nsrun::net {

// In the calling thread's network namespace: net.ipv6.conf.all.forwarding.
bool ipv6_forwarding_on();
// Whether interfaces created now get IPv6 (conf/default/disable_ipv6 is 0, and IPv6 exists at all).
bool ipv6_on_new_links();

// The entries of /proc/sys/net/ipv6/conf, given with their accept_ra, whose accept_ra must become 2 before
// forwarding is turned on: those at 1, except "all" (the kernel never reads it for accept_ra) and nsrun's own
// host ends (nsr<N>), which must not take advertisements from sandboxes.
std::vector<std::string> accept_ra_to_keep(const std::vector<std::pair<std::string, int>>& accept_ra);

// Sets accept_ra=2 where accept_ra_to_keep() says, then net.ipv6.conf.all.forwarding=1. Returns the entries
// it changed. Throws if a write fails (forwarding is then left off).
std::vector<std::string> turn_ipv6_forwarding_on();

}  // namespace nsrun::net
