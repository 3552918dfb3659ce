#include "netsetup/nat/host_routes.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cstring>

#include "base/error.h"
#include "base/files.h"
#include "base/unique_fd.h"
#include "netsetup/netlink.h"

namespace nsrun::net {
namespace {

struct ScanState {
    uint8_t family;
    const Ipv4Cidr* pool;    // AF_INET
    const Ipv6Cidr* pool6;   // AF_INET6
    HostRoutes result;
    uint32_t best_default_priority = UINT32_MAX;
};

// The route's destination as text if it overlaps the pool and is not a sandbox's own peer route.
std::optional<std::string> conflicting(const ScanState& state, nlattr* dst, const rtmsg& route) {
    // A sandbox's peer route: made by the kernel from nsrun's peer address, one address, on-link.
    bool peer_shape = route.rtm_protocol == RTPROT_KERNEL && route.rtm_type == RTN_UNICAST;
    if (state.family == AF_INET) {
        if (nla_len(dst) != 4) return std::nullopt;
        uint32_t destination;
        std::memcpy(&destination, nla_data(dst), 4);
        Ipv4Cidr routed{Ipv4{ntohl(destination)}, route.rtm_dst_len};
        if (!routed.overlaps(*state.pool)) return std::nullopt;
        if (peer_shape && route.rtm_dst_len == 32 && route.rtm_scope == RT_SCOPE_LINK &&
            state.pool->contains(routed.network))
            return std::nullopt;
        return routed.str();
    }
    if (nla_len(dst) != 16) return std::nullopt;
    Ipv6Cidr routed{{}, route.rtm_dst_len};
    std::memcpy(routed.network.bytes.data(), nla_data(dst), 16);
    if (!routed.overlaps(*state.pool6)) return std::nullopt;
    if (peer_shape && route.rtm_dst_len == 128 && state.pool6->contains(routed.network)) return std::nullopt;
    return routed.str();
}

// The name `ip route` shows; the index only if the interface went away meanwhile.
std::string interface_name(int ifindex) {
    char name[IF_NAMESIZE];
    if (::if_indextoname(unsigned(ifindex), name)) return name;
    return "interface index " + std::to_string(ifindex);
}

int on_route(nl_msg* message, void* arg) {
    auto& state = *static_cast<ScanState*>(arg);
    nlmsghdr* header = nlmsg_hdr(message);
    if (header->nlmsg_type != RTM_NEWROUTE) return NL_OK;
    auto* route = static_cast<rtmsg*>(nlmsg_data(header));
    nlattr* attrs[RTA_MAX + 1];
    if (nlmsg_parse(header, sizeof *route, attrs, RTA_MAX, nullptr) < 0) return NL_OK;
    uint32_t table = attrs[RTA_TABLE] ? nla_get_u32(attrs[RTA_TABLE]) : route->rtm_table;
    if (route->rtm_family != state.family || table != RT_TABLE_MAIN) return NL_OK;
    int oif = attrs[RTA_OIF] ? int(nla_get_u32(attrs[RTA_OIF])) : 0;

    // IPv6 keeps unreachable and blackhole routes on lo: only a unicast default route is a way out.
    if (route->rtm_dst_len == 0 && route->rtm_type == RTN_UNICAST) {
        uint32_t priority = attrs[RTA_PRIORITY] ? nla_get_u32(attrs[RTA_PRIORITY]) : 0;
        if (oif == 0 && attrs[RTA_MULTIPATH] && nla_len(attrs[RTA_MULTIPATH]) >= int(sizeof(rtnexthop)))
            oif = static_cast<rtnexthop*>(nla_data(attrs[RTA_MULTIPATH]))->rtnh_ifindex;
        if (priority < state.best_default_priority && oif != 0) {
            state.best_default_priority = priority;
            state.result.uplink_ifindex = oif;
            state.result.uplink_route_mtu = 0;
            if (attrs[RTA_METRICS]) {
                nlattr* metrics[RTAX_MAX + 1];
                if (nla_parse_nested(metrics, RTAX_MAX, attrs[RTA_METRICS], nullptr) == 0 && metrics[RTAX_MTU])
                    state.result.uplink_route_mtu = nla_get_u32(metrics[RTAX_MTU]);
            }
        }
        return NL_OK;
    }
    if (route->rtm_dst_len == 0 || state.result.pool_conflict || !attrs[RTA_DST]) return NL_OK;
    if (auto routed = conflicting(state, attrs[RTA_DST], *route))
        state.result.pool_conflict = (state.family == AF_INET ? state.pool->str() : state.pool6->str()) +
                                     " overlaps the host's route " + *routed +
                                     (oif ? " (dev " + interface_name(oif) + ")" : std::string());
    return NL_OK;
}

HostRoutes scan(nl_sock* socket, ScanState state) {
    const std::string doing = state.family == AF_INET ? "reading the host's routes" : "reading the host's IPv6 routes";
    // Strict checking lets the kernel send the main table only instead of every table.
    int strict = 1;
    setsockopt(nl_socket_get_fd(socket), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &strict, sizeof strict);
    NlMsg request(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP));
    if (!request) fail(doing, "out of memory");
    rtmsg header{};
    header.rtm_family = state.family;
    header.rtm_table = RT_TABLE_MAIN;
    check_nl(nlmsg_append(request.get(), &header, sizeof header, NLMSG_ALIGNTO), doing);
    check_nl(nl_send_auto(socket, request.get()), doing);

    nl_cb* previous = nl_socket_get_cb(socket);
    std::unique_ptr<nl_cb, NlDeleter<nl_cb_put>> callbacks(nl_cb_clone(previous));
    nl_cb_put(previous);
    if (!callbacks) fail(doing, "out of memory");
    nl_cb_set(callbacks.get(), NL_CB_VALID, NL_CB_CUSTOM, on_route, &state);
    check_nl(nl_recvmsgs(socket, callbacks.get()), doing);
    return state.result;
}

}  // namespace

HostRoutes scan_host_routes(nl_sock* socket, const Ipv4Cidr& pool) { return scan(socket, {AF_INET, &pool, nullptr, {}}); }

HostRoutes scan_host_routes6(nl_sock* socket, const Ipv6Cidr& pool) {
    return scan(socket, {AF_INET6, nullptr, &pool, {}});
}

unsigned uplink_mtu(nl_sock* socket, const HostRoutes& routes) {
    unsigned mtu = 1500;
    if (routes.uplink_ifindex != 0) {
        NlLink link = read_link(socket, routes.uplink_ifindex, "", "reading the uplink's MTU");
        if (rtnl_link_get_mtu(link.get()) != 0) mtu = rtnl_link_get_mtu(link.get());
    }
    if (routes.uplink_route_mtu != 0 && routes.uplink_route_mtu < mtu) mtu = routes.uplink_route_mtu;
    return mtu;
}

unsigned uplink_mtu6(nl_sock* socket, const HostRoutes& routes) {
    if (routes.uplink_ifindex == 0) return 0;
    NlLink link = read_link(socket, routes.uplink_ifindex, "", "reading the IPv6 uplink's MTU");
    unsigned mtu = rtnl_link_get_mtu(link.get());
    if (mtu == 0) mtu = 1500;
    // conf/IFACE/mtu, which router advertisements set (libnl 3.7 parses but does not expose it).
    if (const char* name = rtnl_link_get_name(link.get())) {
        auto value = read_sysctl(std::string("/proc/sys/net/ipv6/conf/") + name + "/mtu");
        auto mtu6 = parse_decimal(value.value_or(""), 1u << 20);
        if (mtu6 && *mtu6 != 0 && *mtu6 < mtu) mtu = unsigned(*mtu6);
    }
    if (routes.uplink_route_mtu != 0 && routes.uplink_route_mtu < mtu) mtu = routes.uplink_route_mtu;
    return mtu;
}

}  // namespace nsrun::net
