#include <fcntl.h>
#include <linux/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "netsetup/nat/host_routes.h"
#include "netsetup/host/ipv6_forwarding.h"
#include "netsetup/nft/nat_rules.h"
#include "netsetup/namespace_socket.h"
#include "netsetup/netlink.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {
namespace {

// Offsets 0 (network), 1 (gateway) and the last (broadcast) are never a sandbox's.
constexpr uint64_t kFirstSandboxOffset = 2;

uint64_t sandbox_slots(const Ipv4Cidr& pool) { return pool.prefix > 30 ? 0 : pool.size() - 3; }

uint64_t random_start() {
    uint64_t value = 0;
    if (::getrandom(&value, sizeof value, GRND_NONBLOCK) != sizeof value) value = uint64_t(::getpid()) * 2654435761u;
    return value;
}

// veth cannot come up inside the request that creates it (its peer is not linked yet: ENOTCONN), so each end
// is brought up on its own; the index is needed for addresses and routes anyway. `no_link_local`: the host
// end of a dual-stack link holds fe80::1 and nothing else, which spares the host a DAD, MLD reports and a
// fe80::/64 route per sandbox (the kernel refuses IPv6 link settings in the request that creates the link).
int bring_up(nl_sock* socket, const std::string& name, bool no_link_local = false) {
    const std::string doing = "bringing up " + name;
    NlLink link = read_link(socket, 0, name, doing);
    NlLink change(rtnl_link_alloc());
    if (!change) fail(doing, "out of memory");
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (no_link_local) check_nl(rtnl_link_inet6_set_addr_gen_mode(change.get(), IN6_ADDR_GEN_MODE_NONE), doing);
    check_nl(rtnl_link_change(socket, link.get(), change.get(), 0), doing);
    return rtnl_link_get_ifindex(link.get());
}

NlAddr ipv6_nl_addr(const Ipv6& address, unsigned prefix) {
    NlAddr result(nl_addr_build(AF_INET6, address.bytes.data(), address.bytes.size()));
    if (!result) fail("building an address", "out of memory");
    nl_addr_set_prefixlen(result.get(), int(prefix));
    return result;
}

// IPv6 addresses are used at once: no duplicate address detection (nsr<N> already proves the address is this
// sandbox's alone), which would otherwise keep them tentative, and unusable, for a second or more.
// With `peer`, a /128 route to the peer is all the address adds: IFA_F_NOPREFIXROUTE leaves out fe80::1's.
// Written by hand because libnl's rtnl_addr takes a peer only for IPv4.
void add_address6(nl_sock* socket, int ifindex, const Ipv6& local, const std::optional<Ipv6>& peer,
                  const std::string& doing) {
    NlMsg message(nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK));
    if (!message) fail(doing, "out of memory");
    ifaddrmsg header{};
    header.ifa_family = AF_INET6;
    header.ifa_prefixlen = 128;
    header.ifa_index = uint32_t(ifindex);
    uint32_t flags = IFA_F_NODAD | (peer ? IFA_F_NOPREFIXROUTE : 0);
    header.ifa_flags = uint8_t(flags);
    check_nl(nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO), doing);
    check_nl(nla_put(message.get(), IFA_LOCAL, 16, local.bytes.data()), doing);
    check_nl(nla_put(message.get(), IFA_ADDRESS, 16, (peer ? *peer : local).bytes.data()), doing);
    check_nl(nla_put_u32(message.get(), IFA_FLAGS, flags), doing);
    check_nl(nl_send_auto(socket, message.get()), doing);
    check_nl(nl_wait_for_ack(socket), doing);
}

// `mtu`: the IPv6 path's own MTU when it is below the link's, else 0.
void add_default_route6(nl_sock* socket, int ifindex, const Ipv6& gateway, unsigned mtu) {
    const std::string doing = "adding the sandbox's IPv6 default route";
    NlRoute route(rtnl_route_alloc());
    rtnl_nexthop* hop = rtnl_route_nh_alloc();
    if (!route || !hop) fail(doing, "out of memory");
    rtnl_route_nh_set_ifindex(hop, ifindex);
    rtnl_route_nh_set_gateway(hop, ipv6_nl_addr(gateway, 128).get());
    rtnl_route_add_nexthop(route.get(), hop);
    rtnl_route_set_family(route.get(), AF_INET6);
    check_nl(rtnl_route_set_dst(route.get(), ipv6_nl_addr(Ipv6{}, 0).get()), doing);
    if (mtu != 0) check_nl(rtnl_route_set_metric(route.get(), RTAX_MTU, mtu), doing);
    check_nl(rtnl_route_add(socket, route.get(), NLM_F_CREATE | NLM_F_EXCL), doing);
}

void add_peer_address(nl_sock* socket, int ifindex, Ipv4 local, Ipv4 peer, const std::string& doing) {
    NlAddress address(rtnl_addr_alloc());
    if (!address) fail(doing, "out of memory");
    rtnl_addr_set_ifindex(address.get(), ifindex);
    check_nl(rtnl_addr_set_local(address.get(), ipv4_nl_addr(local.value, 32).get()), doing);
    check_nl(rtnl_addr_set_peer(address.get(), ipv4_nl_addr(peer.value, 32).get()), doing);
    check_nl(rtnl_addr_add(socket, address.get(), 0), doing);
}

void add_default_route(nl_sock* socket, int ifindex, Ipv4 gateway) {
    const std::string doing = "adding the sandbox's default route";
    NlRoute route(rtnl_route_alloc());
    rtnl_nexthop* hop = rtnl_route_nh_alloc();
    if (!route || !hop) fail(doing, "out of memory");
    rtnl_route_nh_set_ifindex(hop, ifindex);
    rtnl_route_nh_set_gateway(hop, ipv4_nl_addr(gateway.value, 32).get());
    rtnl_route_add_nexthop(route.get(), hop);  // the route owns the hop from here
    rtnl_route_set_family(route.get(), AF_INET);
    check_nl(rtnl_route_set_dst(route.get(), ipv4_nl_addr(0, 0).get()), doing);
    check_nl(rtnl_route_add(socket, route.get(), NLM_F_CREATE | NLM_F_EXCL), doing);
}

// Creates nsr<offset> with its peer already inside the sandbox as eth0. Returns false when the name,
// and so the address, is taken.
bool create_veth(nl_sock* socket, const std::string& name, pid_t sandbox, unsigned mtu, const std::string& alias,
                 uint32_t group) {
    const std::string doing = "creating veth " + name;
    NlLink link(rtnl_link_veth_alloc());
    if (!link) fail(doing, "out of memory");
    NlLink peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_set_mtu(link.get(), mtu);
    if (!alias.empty()) rtnl_link_set_ifalias(link.get(), alias.c_str());
    if (group != 0) rtnl_link_set_group(link.get(), group);
    rtnl_link_set_name(peer.get(), "eth0");
    rtnl_link_set_mtu(peer.get(), mtu);
    rtnl_link_set_ns_pid(peer.get(), sandbox);
    int result = rtnl_link_add(socket, link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (result == -NLE_EXIST) return false;
    check_nl(result, doing);
    return true;
}

void delete_link(nl_sock* socket, const std::string& name) {
    NlLink link(rtnl_link_alloc());
    if (!link) return;
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_delete(socket, link.get());
}

// Removes the host end unless the set-up completed.
class VethGuard {
public:
    VethGuard(nl_sock* socket, std::string name) : socket_(socket), name_(std::move(name)) {}
    ~VethGuard() {
        if (!committed_) delete_link(socket_, name_);
    }
    void commit() { committed_ = true; }

private:
    nl_sock* socket_;
    std::string name_;
    bool committed_ = false;
};

Ipv6 gateway6() {
    static const Ipv6 gateway = *Ipv6::parse(kGateway6);
    return gateway;
}

}  // namespace

std::optional<std::string> pool6_problem(const Ipv6Cidr& pool6, const Ipv4Cidr& pool) {
    for (const char* reserved : {"::/8", "fe80::/10", "ff00::/8"})
        if (pool6.overlaps(*Ipv6Cidr::parse(reserved)))
            return "overlaps " + std::string(reserved) + ", which is not for sandboxes (use a ULA such as " +
                   kDefaultPool6 + ")";
    if (pool6.host_bits() < 32 - pool.prefix)
        return "too small for the IPv4 pool " + pool.str() + ": a sandbox's IPv6 address is the pool's address N "
               "when its IPv4 address is " + pool.str() + "'s address N, so it needs at least " +
               std::to_string(32 - pool.prefix) + " host bits (/" + std::to_string(96 + pool.prefix) + ")";
    return std::nullopt;
}

NatNetwork NatNetwork::attach(pid_t pid, int pidfd, const NatOptions& options, StepLog& log,
                              std::optional<std::string>& notice) {
    const Ipv4Cidr& pool = options.pool;
    uint64_t slots = sandbox_slots(pool);
    if (slots == 0) fail("--subnet " + pool.str(), "too small: a pool needs at least 4 addresses (/30)");
    NlSocket host = connect_route_socket();
    HostRoutes routes = scan_host_routes(host.get(), pool);
    if (routes.pool_conflict) fail("--subnet " + pool.str(), *routes.pool_conflict);
    NatLease lease;
    lease.mtu = uplink_mtu(host.get(), routes);
    lease.gateway = Ipv4{pool.network.value + 1};
    log.step("read the host's routes (uplink MTU " + std::to_string(lease.mtu) + ")");

    // Dual-stack only where the host itself reaches the IPv6 internet; otherwise IPv4 only, as asked.
    std::optional<Ipv6Cidr> pool6 = options.pool6;
    unsigned route_mtu6 = 0;  // the sandbox's IPv6 default route's own MTU, when below the link's
    if (pool6) {
        if (auto problem = pool6_problem(*pool6, pool)) fail("IPv6 pool " + pool6->str(), *problem);
        HostRoutes routes6 = scan_host_routes6(host.get(), *pool6);
        if (routes6.pool_conflict) fail("IPv6 pool " + pool6->str(), *routes6.pool_conflict);
        std::string ipv4_only;
        if (routes6.uplink_ifindex == 0) {
            ipv4_only = "the host has no IPv6 default route";
        } else if (!ipv6_on_new_links()) {
            ipv4_only = "new interfaces get no IPv6 (net.ipv6.conf.default.disable_ipv6 is 1)";
        } else {
            unsigned mtu6 = uplink_mtu6(host.get(), routes6);
            if (routes.uplink_ifindex == 0) lease.mtu = mtu6;  // an IPv6-only host
            if (lease.mtu < 1280) ipv4_only = "the link's MTU " + std::to_string(lease.mtu) + " is below IPv6's 1280";
            else if (mtu6 < lease.mtu) route_mtu6 = std::max(mtu6, 1280u);
        }
        if (!ipv4_only.empty() && options.ipv6_needed_by)
            fail(*options.ipv6_needed_by, "the sandbox would have no IPv6: " + ipv4_only);
        if (!ipv4_only.empty()) {
            pool6.reset();
            log.step("IPv4 only: " + ipv4_only);
        } else {
            log.step("read the host's IPv6 routes (dual-stack" +
                     (route_mtu6 ? ", IPv6 route MTU " + std::to_string(route_mtu6) : std::string()) + ")");
        }
    }

    notice = ensure_nat_rules(NatPools{pool, pool6, options.connection_limit}, log);

    // A random first try keeps the expected number of EEXIST retries independent of how many sandboxes run.
    uint64_t start = random_start();
    for (uint64_t attempt = 0; attempt < slots && lease.host_link.empty(); ++attempt) {
        uint64_t offset = kFirstSandboxOffset + (start + attempt) % slots;
        std::string name = std::string(kHostLinkPrefix) + std::to_string(offset);
        if (create_veth(host.get(), name, pid, lease.mtu, options.description,
                        options.allow_host ? kAllowHostGroup : 0)) {
            lease.host_link = name;
            lease.address = Ipv4{pool.network.value + uint32_t(offset)};
            if (pool6) lease.address6 = pool6->at(offset);
        }
    }
    if (lease.host_link.empty())
        fail("allocating an address in " + pool.str(), "all " + std::to_string(slots) + " addresses are in use");
    VethGuard guard(host.get(), lease.host_link);
    if (log.enabled())
        log.step("created veth " + lease.host_link + " for " + lease.address.str() +
                 (lease.address6 ? " and " + lease.address6->str() : std::string()) +
                 (options.allow_host ? " (--allow-host)" : ""));

    int host_index = bring_up(host.get(), lease.host_link, lease.address6.has_value());
    add_peer_address(host.get(), host_index, lease.gateway, lease.address,
                     "adding " + lease.gateway.str() + " to " + lease.host_link);
    if (lease.address6)
        add_address6(host.get(), host_index, gateway6(), lease.address6,
                     std::string("adding ") + kGateway6 + " to " + lease.host_link);

    NlSocket sandbox = connect_route_socket_in(pidfd);
    int eth0 = bring_up(sandbox.get(), "eth0");
    add_peer_address(sandbox.get(), eth0, lease.address, lease.gateway, "adding " + lease.address.str() + " to eth0");
    add_default_route(sandbox.get(), eth0, lease.gateway);
    if (lease.address6) {
        add_address6(sandbox.get(), eth0, *lease.address6, std::nullopt, "adding " + lease.address6->str() + " to eth0");
        add_default_route6(sandbox.get(), eth0, gateway6(), route_mtu6);
    }
    log.step("configured addresses and routes");
    // --allow-host opens every port of the host already.
    HostDnsTable dns;
    if (!options.allow_host) {
        HostResolvers resolvers = resolvers_on_host(options.name_servers);
        if (!lease.address6) resolvers.v6.clear();
        dns = HostDnsTable::open(lease.host_link, uint32_t(host_index), resolvers, log);
    }
    guard.commit();
    return NatNetwork(std::move(lease), std::move(dns));
}

}  // namespace nsrun::net
