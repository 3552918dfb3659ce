// A NETLINK_ROUTE socket inside another network namespace.
#pragma once

#include "netsetup/netlink.h"

namespace nsrun::net {

// `ns` is a network namespace fd (/proc/PID/ns/net) or a pidfd. A socket stays in the namespace it was
// created in, so the calling thread visits `ns` only for the socket() call and is back in its own namespace
// when this returns, also when it throws.
NlSocket connect_route_socket_in(int ns);

}  // namespace nsrun::net
