#include <fcntl.h>
#include <linux/if.h>
#include <netlink/errno.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/error.h"
#include "base/unique_fd.h"
#include "netsetup/host_routes.h"
#include "netsetup/nat_rules.h"
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
// is brought up on its own; the index is needed for addresses and routes anyway.
int bring_up(nl_sock* socket, const std::string& name) {
    const std::string doing = "bringing up " + name;
    rtnl_link* raw = nullptr;
    check_nl(rtnl_link_get_kernel(socket, 0, name.c_str(), &raw), doing);
    NlLink link(raw);
    NlLink change(rtnl_link_alloc());
    if (!change) fail(doing, "out of memory");
    rtnl_link_set_flags(change.get(), IFF_UP);
    check_nl(rtnl_link_change(socket, link.get(), change.get(), 0), doing);
    return rtnl_link_get_ifindex(link.get());
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
bool create_veth(nl_sock* socket, const std::string& name, pid_t sandbox, unsigned mtu, const std::string& alias) {
    const std::string doing = "creating veth " + name;
    NlLink link(rtnl_link_veth_alloc());
    if (!link) fail(doing, "out of memory");
    NlLink peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_set_mtu(link.get(), mtu);
    if (!alias.empty()) rtnl_link_set_ifalias(link.get(), alias.c_str());
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

// A NETLINK_ROUTE socket inside another process's network namespace: sockets stay in the namespace they were
// created in, so the thread visits it only for the socket() call.
NlSocket connect_in_namespace_of(int pidfd) {
    const std::string doing = "entering the sandbox's network namespace";
    UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own) throw_errno(doing);
    if (::setns(pidfd, CLONE_NEWNET) < 0) throw_errno(doing);
    NlSocket socket;
    try {
        socket = connect_route_socket();
    } catch (...) {
        ::setns(own.get(), CLONE_NEWNET);
        throw;
    }
    if (::setns(own.get(), CLONE_NEWNET) < 0) throw_errno("returning to the host's network namespace");
    return socket;
}

}  // namespace

void check_pool(const Ipv4Cidr& pool) {
    if (sandbox_slots(pool) == 0) fail("--subnet " + pool.str(), "too small: a pool needs at least 4 addresses (/30)");
    NlSocket socket = connect_route_socket();
    HostRoutes routes = scan_host_routes(socket.get(), pool);
    if (routes.pool_conflict) fail("--subnet " + pool.str(), *routes.pool_conflict);
}

NatNetwork NatNetwork::attach(pid_t pid, int pidfd, const NatOptions& options, StepLog& log) {
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

    ensure_nat_rules(pool, log);

    // A random first try keeps the expected number of EEXIST retries independent of how many sandboxes run.
    uint64_t start = random_start();
    for (uint64_t attempt = 0; attempt < slots && lease.host_link.empty(); ++attempt) {
        uint64_t offset = kFirstSandboxOffset + (start + attempt) % slots;
        std::string name = std::string(kHostLinkPrefix) + std::to_string(offset);
        if (create_veth(host.get(), name, pid, lease.mtu, options.description)) {
            lease.host_link = name;
            lease.address = Ipv4{pool.network.value + uint32_t(offset)};
        }
    }
    if (lease.host_link.empty())
        fail("allocating an address in " + pool.str(), "all " + std::to_string(slots) + " addresses are in use");
    VethGuard guard(host.get(), lease.host_link);
    log.step("created veth " + lease.host_link + " for " + lease.address.str());

    int host_index = bring_up(host.get(), lease.host_link);
    add_peer_address(host.get(), host_index, lease.gateway, lease.address,
                     "adding " + lease.gateway.str() + " to " + lease.host_link);

    NlSocket sandbox = connect_in_namespace_of(pidfd);
    int eth0 = bring_up(sandbox.get(), "eth0");
    add_peer_address(sandbox.get(), eth0, lease.address, lease.gateway, "adding " + lease.address.str() + " to eth0");
    add_default_route(sandbox.get(), eth0, lease.gateway);
    log.step("configured addresses and routes");
    guard.commit();
    return NatNetwork(std::move(lease));
}

void NatNetwork::detach() {
    if (lease_.host_link.empty()) return;
    NlSocket host = connect_route_socket();
    delete_link(host.get(), lease_.host_link);
    lease_.host_link.clear();
}

}  // namespace nsrun::net
