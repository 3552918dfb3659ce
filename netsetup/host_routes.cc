#include "netsetup/host_routes.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>

#include "base/error.h"
#include "netsetup/netlink.h"

namespace nsrun::net {
namespace {

struct ScanState {
    const Ipv4Cidr* pool;
    HostRoutes result;
    uint32_t best_default_priority = UINT32_MAX;
};

int on_route(nl_msg* message, void* arg) {
    auto& state = *static_cast<ScanState*>(arg);
    nlmsghdr* header = nlmsg_hdr(message);
    if (header->nlmsg_type != RTM_NEWROUTE) return NL_OK;
    auto* route = static_cast<rtmsg*>(nlmsg_data(header));
    nlattr* attrs[RTA_MAX + 1];
    if (nlmsg_parse(header, sizeof *route, attrs, RTA_MAX, nullptr) < 0) return NL_OK;
    uint32_t table = attrs[RTA_TABLE] ? nla_get_u32(attrs[RTA_TABLE]) : route->rtm_table;
    if (route->rtm_family != AF_INET || table != RT_TABLE_MAIN) return NL_OK;
    int oif = attrs[RTA_OIF] ? int(nla_get_u32(attrs[RTA_OIF])) : 0;

    if (route->rtm_dst_len == 0) {
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
    if (state.result.pool_conflict || !attrs[RTA_DST] || nla_len(attrs[RTA_DST]) != 4) return NL_OK;
    uint32_t destination;
    std::memcpy(&destination, nla_data(attrs[RTA_DST]), 4);
    Ipv4Cidr routed{Ipv4{ntohl(destination)}, route->rtm_dst_len};
    if (!routed.overlaps(*state.pool)) return NL_OK;
    bool sandbox_peer_route = route->rtm_protocol == RTPROT_KERNEL && route->rtm_dst_len == 32 &&
                              route->rtm_scope == RT_SCOPE_LINK && state.pool->contains(routed.network);
    if (sandbox_peer_route) return NL_OK;
    state.result.pool_conflict = state.pool->str() + " overlaps the host's route " + routed.str() +
                                 (oif ? " (interface index " + std::to_string(oif) + ")" : std::string());
    return NL_OK;
}

}  // namespace

HostRoutes scan_host_routes(nl_sock* socket, const Ipv4Cidr& pool) {
    const std::string doing = "reading the host's routes";
    // Strict checking lets the kernel send the main table only instead of every table.
    int strict = 1;
    setsockopt(nl_socket_get_fd(socket), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &strict, sizeof strict);
    NlMsg request(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP));
    if (!request) fail(doing, "out of memory");
    rtmsg header{};
    header.rtm_family = AF_INET;
    header.rtm_table = RT_TABLE_MAIN;
    check_nl(nlmsg_append(request.get(), &header, sizeof header, NLMSG_ALIGNTO), doing);
    check_nl(nl_send_auto(socket, request.get()), doing);

    ScanState state{&pool, {}};
    nl_cb* previous = nl_socket_get_cb(socket);
    std::unique_ptr<nl_cb, NlDeleter<nl_cb_put>> callbacks(nl_cb_clone(previous));
    nl_cb_put(previous);
    if (!callbacks) fail(doing, "out of memory");
    nl_cb_set(callbacks.get(), NL_CB_VALID, NL_CB_CUSTOM, on_route, &state);
    check_nl(nl_recvmsgs(socket, callbacks.get()), doing);
    return state.result;
}

unsigned uplink_mtu(nl_sock* socket, const HostRoutes& routes) {
    unsigned mtu = 1500;
    if (routes.uplink_ifindex != 0) {
        rtnl_link* raw = nullptr;
        check_nl(rtnl_link_get_kernel(socket, routes.uplink_ifindex, nullptr, &raw), "reading the uplink's MTU");
        NlLink link(raw);
        if (rtnl_link_get_mtu(link.get()) != 0) mtu = rtnl_link_get_mtu(link.get());
    }
    if (routes.uplink_route_mtu != 0 && routes.uplink_route_mtu < mtu) mtu = routes.uplink_route_mtu;
    return mtu;
}

}  // namespace nsrun::net
