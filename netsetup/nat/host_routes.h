// One read of the host's main routing table per family, for what a launch needs to know about it: whether a
// pool collides with a route of the host's, whether there is a way out at all, and its MTU.
#pragma once

#include <netlink/netlink.h>

#include <optional>
#include <string>

#include "base/ip_address.h"
#include "base/ipv6_address.h"

namespace nsrun::net {

struct HostRoutes {
    std::optional<std::string> pool_conflict;  // e.g. "10.201.0.0/16 overlaps the host's route 10.0.0.0/8 (dev eth0)"
    int uplink_ifindex = 0;                    // device of the preferred default route, 0 if none
    unsigned uplink_route_mtu = 0;             // the default route's own mtu metric, 0 if none
};

// Routes inside the pool that nsrun made itself (a sandbox's /32 or /128 peer route) are not conflicts.
HostRoutes scan_host_routes(nl_sock* socket, const Ipv4Cidr& pool);
HostRoutes scan_host_routes6(nl_sock* socket, const Ipv6Cidr& pool);

// The MTU sandboxes get: the uplink's, so a link below 1500 (tunnels, clouds, VPNs) does not hang TLS and
// uploads; 1500 when the host has no default route.
unsigned uplink_mtu(nl_sock* socket, const HostRoutes& routes);
// The same for IPv6, which may leave by another interface, and whose MTU a router advertisement may have
// lowered below the link's (conf/IFACE/mtu); 0 when there is no IPv6 default route.
unsigned uplink_mtu6(nl_sock* socket, const HostRoutes& routes);

}  // namespace nsrun::net
