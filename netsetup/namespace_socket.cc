#include "netsetup/namespace_socket.h"

#include <fcntl.h>
#include <sched.h>

#include "base/error.h"
#include "base/unique_fd.h"

namespace nsrun::net {

NlSocket connect_route_socket_in(int ns) {
    const std::string doing = "entering the sandbox's network namespace";
    UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own) throw_errno(doing);
    if (::setns(ns, CLONE_NEWNET) < 0) throw_errno(doing);
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

}  // namespace nsrun::net
