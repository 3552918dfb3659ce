#include "netsetup/netlink.h"

#include <arpa/inet.h>
#include <netlink/errno.h>

#include "base/error.h"

namespace nsrun::net {

NlSocket connect_route_socket() {
    NlSocket socket(nl_socket_alloc());
    if (!socket) fail("opening a netlink socket", "out of memory");
    check_nl(nl_connect(socket.get(), NETLINK_ROUTE), "opening a netlink socket");
    return socket;
}

int check_nl(int result, const std::string& doing) {
    if (result < 0) fail(doing, nl_geterror(result));
    return result;
}

NlLink read_link(nl_sock* socket, int index, const std::string& name, const std::string& doing) {
    rtnl_link* raw = nullptr;
    check_nl(rtnl_link_get_kernel(socket, index, name.empty() ? nullptr : name.c_str(), &raw), doing);
    return NlLink(raw);
}

NlAddr ipv4_nl_addr(uint32_t host_order, unsigned prefix) {
    uint32_t network_order = htonl(host_order);
    NlAddr address(nl_addr_build(AF_INET, &network_order, sizeof network_order));
    if (!address) fail("building an address", "out of memory");
    nl_addr_set_prefixlen(address.get(), int(prefix));
    return address;
}

}  // namespace nsrun::net
