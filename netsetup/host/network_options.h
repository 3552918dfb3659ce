// The pure parsers for the network options users type: published ports, rates, interface addresses, names.
// Each throws nsrun::Error("--option VALUE", "why").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip_address.h"
#include "base/ipv6_address.h"

namespace nsrun::net {

struct PortMapping {
    enum class Protocol { tcp, udp } protocol = Protocol::tcp;
    std::optional<Ipv4> host_ip;  // nullopt: every address of the host
    uint16_t host_port = 0;
    uint16_t port = 0;  // in the sandbox
    std::string str() const;  // "[HOSTIP:]HOSTPORT:PORT/PROTO"
    friend bool operator==(const PortMapping&, const PortMapping&) = default;
};

// -p/--publish=[HOSTIP:]HOSTPORT:PORT[/tcp|/udp]
PortMapping parse_port_mapping(std::string_view text);

// --rate=RATE as tc(8) writes it: a number with bit, kbit, mbit, gbit (bits/s) or bps, kbps, mbps, gbps
// (bytes/s); decimal prefixes. Returns bytes per second.
uint64_t parse_rate(std::string_view text);

// --address=A.B.C.D/N: an interface address (host bits allowed, unlike a network).
struct InterfaceAddress {
    Ipv4 address;
    unsigned prefix = 32;
    std::string str() const;
    friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};
InterfaceAddress parse_interface_address(std::string_view text);

// --dns=IP: a name server for the sandbox's resolv.conf, IPv4 or IPv6 (inet_pton's syntax, no zone).
struct NameServer {
    std::string address;      // as resolv.conf takes it (canonical form)
    bool needs_ipv6 = false;  // an IPv6 server beyond the sandbox's own loopback: reached only over IPv6 NAT
    friend bool operator==(const NameServer&, const NameServer&) = default;
};
// Link-local IPv6 is refused: it needs a zone, and the sandbox has no link of the host's to name.
NameServer parse_name_server(std::string_view text);

// --name=NAME: letters, digits, '-', '_', '.', 1 to 32 characters, not starting with '.' or '-' (it becomes a
// file name under /run/netns, where `ip netns` looks).
std::string parse_sandbox_name(std::string_view text);

}  // namespace nsrun::net
