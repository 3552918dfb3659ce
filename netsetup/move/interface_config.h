// The configuration of one interface as the kernel drops it when the interface changes network namespace
// (addresses, routes, the up flag), read and re-applied through raw rtnetlink messages. Addresses and routes
// are kept as the kernel's own RTM_NEWADDR/RTM_NEWROUTE bodies, filtered down to the attributes the kernel
// accepts back, so that whatever a route carries (metrics, preference, source, table) survives unchanged.
#pragma once

#include <netlink/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"
#include "netsetup/host/network_options.h"

namespace nsrun::net {

struct InterfaceState {
    std::string name;
    int index = 0;
    std::string kind;      // IFLA_INFO_KIND ("veth", "macvlan"...); empty for a physical device
    std::string mac;       // "02:00:5e:00:53:01"; empty when the device has none
    std::string perm_mac;  // the hardware's own address (survives a MAC change); empty when none is reported
    unsigned mtu = 0;
    bool up = false;
    bool loopback = false;
    int master = 0;  // the bridge or bond it is a port of, 0 for none
    std::vector<std::string> addresses;  // kept_address() bodies, in the kernel's order (primaries first)
    std::vector<std::string> routes;     // kept_route() bodies
    std::optional<std::string> default_route;  // a main-table default route through it, described
    // Whether it has an address of its own (IPv4, or IPv6 beyond link-local): one that came back "stripped"
    // has none.
    bool configured = false;
};

// The interface `name` in the network namespace of `socket` (NETLINK_ROUTE); nullopt when there is none.
// Costs one link query and two dumps that the kernel filters to this interface, whatever else the host has.
std::optional<InterfaceState> read_interface(nl_sock* socket, const std::string& name);

// Puts `saved`'s MTU, MAC, addresses, up flag and routes back on `current` (the same device, as it is now in
// the namespace of `socket`). Returns one line per thing that could not be restored; everything else is.
std::vector<std::string> restore_interface(nl_sock* socket, const InterfaceState& current, const InterfaceState& saved);

// Moves the interface `index` from the namespace of `socket` to the namespace `ns_fd` refers to, renamed to
// `name` there when given. Returns 0 or a negative libnl error code.
int move_interface(nl_sock* socket, int index, int ns_fd, const std::string& name = {});

// Sets up interface `index` the way --address and --gateway ask: the addresses (with the broadcast address
// of their network), up, and a default route via `gateway`. Throws on the first failure.
void configure_interface(nl_sock* socket, int index, const std::string& name,
                         const std::vector<InterfaceAddress>& addresses, std::optional<Ipv4> gateway);

// ---- pure pieces (unit-tested) ----

// The body of an RTM_NEWADDR (ifaddrmsg + attributes) as worth re-adding: permanent addresses only (DHCP
// leases with lifetimes and SLAAC addresses belong to their daemons; IPv6 link-local ones come back by
// themselves), with only the attributes the kernel takes on input. nullopt when it is not worth keeping.
std::optional<std::string> kept_address(std::string_view body);

// The body of an RTM_NEWROUTE as worth re-adding for interface `index`: unicast routes through it alone (not
// multipath, not nexthop objects), not the kernel's own (they come back with the addresses), not RA-learned,
// not the local table's. nullopt otherwise.
std::optional<std::string> kept_route(std::string_view body, int index);

// Whether an RTM_NEWROUTE body is a default route of the main table.
bool is_main_default_route(std::string_view body);

// "198.51.100.7/24", "2001:db8::1/64" / "default via 198.51.100.1 table 100" for messages and records.
std::string describe_address(std::string_view body);
std::string describe_route(std::string_view body);

// The bodies re-targeted at interface `index` (ifa_index / RTA_OIF).
std::string address_for_index(std::string_view body, int index);
std::string route_for_index(std::string_view body, int index);
// Whether a route body has a gateway (re-added after the routes that make the gateway reachable).
bool route_has_gateway(std::string_view body);

// The record text for `state` (what nsrun writes under /run/nsrun/moved) and back; parse returns nullopt for
// text that is not a complete record.
// `held_at` (with the namespace's inode `netns`) names a file that keeps the sandbox's network namespace alive
// past its nsrun (an `ip netns` name), where the next nsrun finds the interface if that nsrun is killed.
std::string format_interface_record(const InterfaceState& state, long owner_pid, const std::string& held_at = {},
                                    uint64_t netns = 0);
struct InterfaceRecord {
    InterfaceState state;
    long owner_pid = 0;
    std::string held_at;  // empty when none
    uint64_t netns = 0;
};
std::optional<InterfaceRecord> parse_interface_record(std::string_view text);

}  // namespace nsrun::net
