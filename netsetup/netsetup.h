// netsetup: the network of one sandbox, for any front end (the nsrun CLI, an orchestrator plugin...).
//
// A NAT'd sandbox gets a veth pair: the host end is named nsr<N> and the peer is created directly inside the
// sandbox's network namespace as eth0. The sandbox has one /32 address from the pool, point-to-point with the
// gateway (the pool's first address, held by every host end), a default route through it, and shared nftables
// rules masquerade what it sends out. The kernel is the allocator's lock: nsr<N> owns the pool's address N,
// creating it either succeeds or fails with EEXIST, and it vanishes with the namespace, SIGKILL included.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"
#include "base/ipv6_address.h"
#include "base/step_log.h"
#include "netsetup/host/host_dns.h"
#include "netsetup/host/network_options.h"

namespace nsrun::net {

inline constexpr std::string_view kHostLinkPrefix = "nsr";  // host veth ends are nsr<slot>; nft matches "nsr*"
inline constexpr const char* kDefaultPool = "10.201.0.0/16";
// A ULA /64 whose 40-bit global ID spells "nsrun" (6e 73 72 75 6e). A sandbox's IPv6 address is this pool's
// address N, where N is its IPv4 address's offset in kDefaultPool: nsr<N> owns both.
inline constexpr const char* kDefaultPool6 = "fd6e:7372:756e::/64";
// Connections one sandbox may hold open at once (its conntrack entries on the host; closed TCP ones do not
// count): enough for browsers, crawlers and parallel builds, and a small share of the host's table
// (nf_conntrack_max), which every sandbox and the host itself share. `connections =` in the config file.
inline constexpr uint32_t kDefaultConnectionLimit = 4096;

struct NatOptions {
    Ipv4Cidr pool;
    std::string description;  // shown as the host end's alias (ip link), e.g. "nsrun pid 42: curl"
    // Dual-stack where the host has an IPv6 default route; nullopt: IPv4 only (--ipv6=off).
    std::optional<Ipv6Cidr> pool6 = std::nullopt;
    // Lets the sandbox reach the host's own services; without it only DNS (port 53) and replies get in.
    bool allow_host = false;
    // What needs the sandbox's IPv6 (e.g. "--dns 2001:db8::53"): where the host has none, the launch fails
    // rather than going IPv4 only.
    std::optional<std::string> ipv6_needed_by = std::nullopt;
    // The name servers of the sandbox's resolv.conf: port 53 of the host opens to those that are the host's.
    std::vector<std::string> name_servers = {};
    // Host-wide (it lives in the shared table): connections one sandbox may hold at once.
    uint32_t connection_limit = kDefaultConnectionLimit;
};

struct NatLease {
    std::string host_link;  // nsr<N>
    Ipv4 gateway;
    Ipv4 address;
    unsigned mtu = 0;
    std::optional<Ipv6> address6;  // its /128 from the IPv6 pool; the gateway is fe80::1 (kGateway6)
};

// The IPv6 gateway: a link-local address that every host end holds, as routers advertise theirs.
inline constexpr const char* kGateway6 = "fe80::1";

// Why `pool6` cannot be the IPv6 pool next to `pool`, or nullopt: it must be unicast outside ::/8, fe80::/10
// and ff00::/8, and have room for every slot of the IPv4 pool (at least as many host bits).
std::optional<std::string> pool6_problem(const Ipv6Cidr& pool6, const Ipv4Cidr& pool);

class NatNetwork {
public:
    // Sets up the network of the sandbox whose network namespace is that of process `pid` (`pidfd` refers to the
    // same process), from the calling thread's network namespace (the host). On failure nothing it made remains.
    // `notice` is set, the moment it happens, when the launch changed a host setting that the user must hear
    // about (it turned forwarding on, with the guard that drops other forwarding): also when a later step
    // fails and this throws, since the change stays.
    static NatNetwork attach(pid_t pid, int pidfd, const NatOptions& options, StepLog& log,
                             std::optional<std::string>& notice);

    const NatLease& lease() const noexcept { return lease_; }

private:
    NatNetwork(NatLease lease, HostDnsTable dns) : lease_(std::move(lease)), dns_(std::move(dns)) {}
    NatLease lease_;
    HostDnsTable dns_;  // only when a resolver of the sandbox's is the host
};

// The sandbox's /etc/resolv.conf, from the host's and the --dns servers. nullopt: the host's file works inside
// as it is. `read_file` reads a host file (nullopt when missing). Throws when no usable name server is known.
struct ResolverFiles {
    std::string etc_resolv_conf;                       // /etc/resolv.conf
    std::optional<std::string> systemd_resolv_conf;    // /run/systemd/resolve/resolv.conf (resolved's upstreams)
};
std::optional<std::string> sandbox_resolv_conf(const ResolverFiles& host, const std::vector<NameServer>& dns_servers);
// The nameserver addresses of a resolv.conf, in order.
std::vector<std::string> resolv_conf_servers(const std::string& text);
ResolverFiles read_host_resolver_files();

}  // namespace nsrun::net
