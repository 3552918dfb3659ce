// --net=move:IFACE: a host interface given to one sandbox as it is (no veth, no NAT: a management NIC, say,
// with its own routes and even the same address space as the host's other side), and given back with the
// configuration it had when the sandbox ends.
//
// The kernel destroys a network namespace as soon as its last process and last reference are gone; physical
// interfaces in it then go to the INITIAL namespace (not necessarily the one nsrun ran in) stripped of
// addresses and routes, and virtual ones (veth, macvlan, vlan...) are destroyed. So nsrun holds the sandbox's
// namespace open past the program's end, moves the interface back itself and re-applies what it recorded
// before: MTU, MAC, permanent addresses, up/down, and the interface's own routes (every table). A copy of that
// record is kept under /run/nsrun/moved (moved_records.h) for the next nsrun in case this one is SIGKILLed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/step_log.h"
#include "netsetup/host/network_options.h"

namespace nsrun::net {

struct MoveRequest {
    std::string interface;
    std::vector<InterfaceAddress> addresses;  // set up inside; none: the program configures it (DHCP...)
    std::optional<Ipv4> gateway;              // default route inside; must lie in one address's network
    // The file that will keep the sandbox's network namespace alive past nsrun (its `ip netns` name, --name),
    // or empty. Recorded, so that after a SIGKILL the next nsrun takes the interface back from there.
    std::string held_at;
};

// Throws Error for a request that cannot work on any host: an address twice, a gateway outside the network
// of every --address (or equal to one).
void check_move_request(const MoveRequest& request);

class MovedInterface {
public:
    // Moves the interface into the network namespace of the sandbox process `pid` and sets it up there. Refuses
    // (throwing, with the host unchanged) an interface that does not exist, the loopback, a bridge or bond port,
    // one that carries the host's main default route, and one another nsrun has given to its sandbox.
    static MovedInterface attach(pid_t pid, const MoveRequest& request, StepLog& log);

    MovedInterface(MovedInterface&&) noexcept;
    MovedInterface& operator=(MovedInterface&&) = delete;
    ~MovedInterface();  // restore(), when it has not run yet

    // Gives the interface back to the host and restores its configuration. Call once the sandbox's program has
    // ended; until then this object holds the sandbox's network namespace. Never throws: returns a warning per
    // thing that could not be restored, and the record stays for the next nsrun when the interface could not
    // be given back.
    std::vector<std::string> restore(StepLog& log) noexcept;

private:
    struct State;
    explicit MovedInterface(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// Puts back the configuration of interfaces that an nsrun killed before it could give them back left without
// it in this network namespace, once they are back here (under the same name and hardware address, and still
// unconfigured). An interface still in its sandbox's namespace, which a recorded file (an `ip netns` name)
// keeps alive, is first taken back from there: whatever still runs in that namespace is killed, then the
// interface is moved here and configured as recorded. Records of virtual interfaces that are gone (the kernel
// destroyed them) are dropped. Never throws; returns the lines to tell the user (what was given back, what
// was lost, warnings). Costs one stat() on a machine where no interface was ever moved. Call it before
// anything lets go of a dead sandbox's `ip netns` name.
std::vector<std::string> recover_moved_interfaces(StepLog& log) noexcept;

}  // namespace nsrun::net
