#include "netsetup/move/moved_interface.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <netlink/errno.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "base/error.h"
#include "base/netns_members.h"
#include "base/proc_path.h"
#include "base/unique_fd.h"
#include "netsetup/move/interface_config.h"
#include "netsetup/move/moved_records.h"
#include "netsetup/namespace_socket.h"
#include "netsetup/netlink.h"

namespace nsrun::net {
namespace {

std::string owner_of(const std::string& record_text) {
    auto record = parse_interface_record(record_text);
    return record ? "nsrun pid " + std::to_string(record->owner_pid) : std::string("another nsrun");
}

bool same_device(const InterfaceState& now, const InterfaceState& recorded) {
    if (!recorded.perm_mac.empty()) return now.perm_mac == recorded.perm_mac;
    return !recorded.mac.empty() && now.mac == recorded.mac;
}

UniqueFd open_namespace(const std::string& path, const std::string& doing) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(doing);
    return fd;
}

// The recorded namespace, when the file that holds it still does: from here, or through pid 1's root when the
// name was mounted in a mount namespace this one does not receive. A record is input, and what is done to the
// namespace it names (every process in it killed) must never reach another one: only an `ip netns` name, only
// the namespace recorded, never this nsrun's own.
UniqueFd open_held_namespace(const InterfaceRecord& record) {
    constexpr std::string_view kNames = "/run/netns/";
    std::string_view name = std::string_view(record.held_at).substr(std::min(record.held_at.size(), kNames.size()));
    if (!record.held_at.starts_with(kNames) || name.empty() || name.find('/') != std::string_view::npos ||
        name == "." || name == "..")
        return {};
    struct stat own{};
    if (::stat("/proc/thread-self/ns/net", &own) != 0) return {};
    for (const std::string& path : {record.held_at, "/proc/1/root" + record.held_at}) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        struct stat st{};
        struct statfs fs{};
        if (fd && ::fstat(fd.get(), &st) == 0 && ::fstatfs(fd.get(), &fs) == 0 && fs.f_type == NSFS_MAGIC &&
            uint64_t(st.st_ino) == record.netns && st.st_ino != own.st_ino)
            return fd;
    }
    return {};
}

// The interface is still in the namespace of its killed nsrun's sandbox, which an `ip netns` name keeps alive:
// once that name goes, the kernel destroys a virtual interface and strips a physical one.
void take_back(nl_sock* host, int held, StaleRecord& stale, const InterfaceRecord& record, const std::string& left_by,
               std::vector<std::string>& notices) {
    const InterfaceState& saved = record.state;
    NlSocket inside = connect_route_socket_in(held);
    auto there = read_interface(inside.get(), saved.name);
    if (!there || !same_device(*there, saved)) {
        notices.push_back("lost " + left_by + ": it is no longer in " + record.held_at + " under its name");
        stale.record.remove();
        return;
    }
    // A process left in there (one that joined it, a --net-only keeper still at work) must not keep it.
    kill_netns_members(held);
    UniqueFd host_ns = open_namespace("/proc/thread-self/ns/net", "opening the host's network namespace");
    if (int result = move_interface(inside.get(), there->index, host_ns.get(), saved.name); result < 0) {
        notices.push_back("lost " + left_by + ": moving it back from " + record.held_at + " failed (" +
                          nl_geterror(result) + "); it goes when that name does");
        stale.record.keep();
        return;
    }
    auto now = read_interface(host, saved.name);
    if (!now) fail("restoring " + left_by, "it is not on the host after all");
    for (const auto& problem : restore_interface(host, *now, saved))
        notices.push_back("warning: restoring " + left_by + ": " + problem);
    notices.push_back("gave " + saved.name + " back to the host with its configuration: nsrun pid " +
                      std::to_string(record.owner_pid) + " was killed while its sandbox " + record.held_at + " had it");
    stale.record.remove();
}

void recover(nl_sock* socket, StaleRecord& stale, StepLog& log, std::vector<std::string>& notices) {
    auto record = parse_interface_record(stale.text);
    if (!record) {
        notices.push_back("warning: dropping " + stale.record.path() + ": not a record nsrun can read");
        stale.record.remove();
        return;
    }
    const InterfaceState& saved = record->state;
    const std::string owner = "nsrun pid " + std::to_string(record->owner_pid);
    const std::string left_by = saved.name + " (left by " + owner + ")";
    auto now = read_interface(socket, saved.name);
    if (!now && !record->held_at.empty())
        if (UniqueFd held = open_held_namespace(*record)) return take_back(socket, held.get(), stale, *record, left_by, notices);
    if (!now) {
        // A virtual interface died with the sandbox's namespace; a physical one may still come back here.
        if (!saved.kind.empty()) {
            log.step("dropped the record of " + left_by + ": the kernel destroyed that " + saved.kind);
            stale.record.remove();
        } else {
            stale.record.keep();
        }
        return;
    }
    if (!same_device(*now, saved) || now->configured) {
        log.step("dropped the record of " + left_by + (now->configured ? ": it is configured again"
                                                                        : ": another device has that name now"));
        stale.record.remove();
        return;
    }
    for (const auto& problem : restore_interface(socket, *now, saved))
        notices.push_back("warning: restoring " + left_by + ": " + problem);
    notices.push_back("restored the configuration of " + saved.name + ", which " + owner +
                      " was killed before giving back");
    stale.record.remove();
}

}  // namespace

void check_move_request(const MoveRequest& request) {
    for (size_t i = 0; i < request.addresses.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (request.addresses[i].address == request.addresses[j].address)
                fail("--address " + request.addresses[i].str(), "that address is already given");
    if (!request.gateway) return;
    const Ipv4 gateway = *request.gateway;
    bool reachable = false;
    for (const auto& address : request.addresses) {
        if (address.address == gateway) fail("--gateway " + gateway.str(), "is the sandbox's own --address");
        Ipv4Cidr network{Ipv4{address.address.value & Ipv4Cidr{Ipv4{}, address.prefix}.mask()}, address.prefix};
        if (address.prefix < 32 && network.contains(gateway)) reachable = true;
    }
    if (!reachable) fail("--gateway " + gateway.str(), "not in the network of any --address");
}

struct MovedInterface::State {
    InterfaceState saved;
    MovedRecord record;
    NlSocket host;
    UniqueFd host_ns;
    // Holding the sandbox's namespace keeps the interface in it (and alive) after the program has ended.
    UniqueFd sandbox_ns;
    NlSocket sandbox;
    int sandbox_index = 0;
    bool moved = false;
    bool done = false;

    std::vector<std::string> restore(StepLog& log) noexcept;
};

std::vector<std::string> MovedInterface::State::restore(StepLog& log) noexcept {
    std::vector<std::string> warnings;
    auto warn = [&](const std::string& text) { warnings.push_back("warning: " + text); };
    if (done) return warnings;
    done = true;
    if (!moved) {
        record.remove();
        return warnings;
    }
    const std::string& name = saved.name;
    try {
        if (!sandbox) sandbox = connect_route_socket_in(sandbox_ns.get());
        // By index: the program may have renamed it (IFLA_IFNAME renames it back); by name if the index is unknown.
        int result = move_interface(sandbox.get(), sandbox_index, host_ns.get(), name);
        if (result < 0) {
            bool gone = result == -NLE_OBJ_NOTFOUND || result == -NLE_NODEV;
            warn("giving " + name + " back to the host: " + nl_geterror(result) +
                 (gone ? " (it no longer exists)"
                       : "; a physical device goes to the initial network namespace when nsrun exits, and the next "
                         "nsrun that finds it back here restores it"));
            gone ? record.remove() : record.keep();
            return warnings;
        }
        log.step("moved " + name + " back to the host");
        auto now = read_interface(host.get(), name);
        if (!now) fail("restoring " + name, "it is not on the host after all");
        for (const auto& problem : restore_interface(host.get(), *now, saved)) warn("restoring " + name + ": " + problem);
        record.remove();
        log.step("restored " + name + "'s configuration");
    } catch (const std::exception& error) {
        warn(error.what());
        record.keep();
    }
    return warnings;
}

MovedInterface::MovedInterface(std::unique_ptr<State> state) : state_(std::move(state)) {}
MovedInterface::MovedInterface(MovedInterface&&) noexcept = default;

MovedInterface::~MovedInterface() {
    if (!state_) return;
    StepLog quiet(false);
    state_->restore(quiet);
}

std::vector<std::string> MovedInterface::restore(StepLog& log) noexcept {
    return state_ ? state_->restore(log) : std::vector<std::string>();
}

MovedInterface MovedInterface::attach(pid_t pid, const MoveRequest& request, StepLog& log) {
    const std::string doing = "--net move:" + request.interface;
    if (::geteuid() != 0) fail(doing, "needs root (CAP_NET_ADMIN on the host) to move an interface");
    check_move_request(request);
    // From here on, leaving by an exception gives back whatever was taken.
    MovedInterface moved(std::make_unique<State>());
    State& s = *moved.state_;
    s.host = connect_route_socket();
    auto found = read_interface(s.host.get(), request.interface);
    uint64_t cookie = network_namespace_cookie();
    if (!found) {
        if (auto live = live_record(cookie, request.interface))
            fail(doing, "in use: " + owner_of(*live) + " has given it to its sandbox");
        fail(doing, "no such interface on the host");
    }
    if (found->loopback) fail(doing, "the loopback cannot be moved (every sandbox has its own)");
    if (found->master)
        fail(doing, "it is a port of interface " + std::to_string(found->master) +
                        " (a bridge or bond); moving it would take it out");
    if (found->default_route)
        fail(doing, "the host's default route (" + *found->default_route +
                        ") goes through it; moving it would cut the host off (delete that route first if that "
                        "is what you want)");
    s.saved = std::move(*found);
    // The sandbox's init is our unreaped child: its pid cannot name another process yet.
    s.sandbox_ns = open_namespace(proc_path(pid, "ns/net"), "opening the sandbox's network namespace");
    struct stat sandbox_ns{};
    if (::fstat(s.sandbox_ns.get(), &sandbox_ns) < 0) throw_errno("reading the sandbox's network namespace");
    try {
        s.record = MovedRecord::create(cookie, request.interface,
                                       format_interface_record(s.saved, long(::getpid()), request.held_at,
                                                               uint64_t(sandbox_ns.st_ino)));
    } catch (const Error& error) {
        if (error.err() == EEXIST) fail(doing, "another nsrun is restoring it right now; try again");
        throw;
    }
    log.step("recorded " + request.interface + " (" + std::to_string(s.saved.addresses.size()) + " addresses, " +
             std::to_string(s.saved.routes.size()) + " routes)");

    s.host_ns = open_namespace("/proc/thread-self/ns/net", "opening the host's network namespace");
    check_nl(move_interface(s.host.get(), s.saved.index, s.sandbox_ns.get()),
             "moving " + request.interface + " into the sandbox");
    s.moved = true;
    log.step("moved " + request.interface + " into the sandbox");
    s.sandbox = connect_route_socket_in(s.sandbox_ns.get());
    auto inside = read_interface(s.sandbox.get(), request.interface);
    if (!inside) fail(doing, "it did not arrive in the sandbox");
    s.sandbox_index = inside->index;
    configure_interface(s.sandbox.get(), s.sandbox_index, request.interface, request.addresses, request.gateway);
    log.step("configured " + request.interface + " in the sandbox");
    return moved;
}

std::vector<std::string> recover_moved_interfaces(StepLog& log) noexcept {
    std::vector<std::string> notices;
    if (!any_moved_records()) return notices;
    try {
        auto stale = take_stale_records(network_namespace_cookie());
        if (!stale.empty()) {
            NlSocket socket = connect_route_socket();
            for (auto& record : stale) {
                try {
                    recover(socket.get(), record, log, notices);
                } catch (const std::exception& error) {
                    notices.push_back("warning: restoring " + record.interface + " from " + record.record.path() +
                                      ": " + error.what());
                }
            }
        }
    } catch (const std::exception& error) {
        notices.push_back(std::string("warning: looking for interfaces a killed nsrun left behind: ") + error.what());
    }
    log.step("looked for interfaces a killed nsrun left behind");
    return notices;
}

}  // namespace nsrun::net
