// RAII owners for libnl objects, and the one way netsetup turns a libnl failure into an nsrun::Error.
#pragma once

#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include <memory>
#include <string>

namespace nsrun::net {

template <auto Free>
struct NlDeleter {
    template <typename T>
    void operator()(T* object) const noexcept { Free(object); }
};

using NlSocket = std::unique_ptr<nl_sock, NlDeleter<nl_socket_free>>;
using NlLink = std::unique_ptr<rtnl_link, NlDeleter<rtnl_link_put>>;
using NlAddress = std::unique_ptr<rtnl_addr, NlDeleter<rtnl_addr_put>>;
using NlRoute = std::unique_ptr<rtnl_route, NlDeleter<rtnl_route_put>>;
using NlAddr = std::unique_ptr<nl_addr, NlDeleter<nl_addr_put>>;
using NlMsg = std::unique_ptr<nl_msg, NlDeleter<nlmsg_free>>;

// A connected NETLINK_ROUTE socket in the calling thread's current network namespace.
NlSocket connect_route_socket();

// Throws Error(doing, libnl's text) when `result` is a libnl error (negative).
int check_nl(int result, const std::string& doing);

// The kernel's current record of one link: by `index`, or by `name` when `index` is 0. Throws
// Error(doing, libnl's text).
NlLink read_link(nl_sock* socket, int index, const std::string& name, const std::string& doing);
// nl_addr for one IPv4 address with the given prefix length.
NlAddr ipv4_nl_addr(uint32_t host_order, unsigned prefix);

}  // namespace nsrun::net
