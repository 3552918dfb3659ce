// nsrun's command line, environment and config file, turned into what to run. Pure: no side effects, so the
// unit tests and fuzzers drive it directly.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/ipv6_address.h"
#include "netsetup/netsetup.h"
#include "netsetup/host/network_options.h"
#include "runtime/capabilities.h"
#include "runtime/id_block.h"
#include "runtime/process_settings.h"

namespace nsrun::cli {

enum class NetMode { none, nat, host, move };

struct Options {
    NetMode net = NetMode::none;
    std::vector<net::NameServer> dns;         // --dns, nat or move
    Ipv4Cidr subnet;
    Ipv6Cidr subnet6;                         // --subnet6 / NSRUN_SUBNET6 / subnet6 =; nat with ipv6 only
    std::vector<net::PortMapping> publish;   // -p, nat only
    bool ipv6 = true;                         // --ipv6=on|off, nat only
    bool allow_host = false;                  // --allow-host, nat only
    std::optional<std::string> name;          // --name
    std::string move_interface;               // --net=move:IFACE
    std::vector<net::InterfaceAddress> addresses;  // --address, move only
    std::optional<Ipv4> gateway;              // --gateway, move only
    std::optional<uint64_t> rate;             // --rate in bytes/s, nat only
    // `connections =` in the config file, nat only: host-wide, since the limit lives in the shared table.
    uint32_t connections = net::kDefaultConnectionLimit;
    bool verbose = false;
    std::vector<std::string> command;  // program and arguments

    // Isolation beyond the network (pid and mount namespaces are always new).
    int extra_namespaces = 0;  // CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME
    bool user_namespace = false;
    bool host_identity = false;       // --host-identity: root stays the host's root (no mapped block)
    runtime::IdPool id_pool;          // --id-pool / NSRUN_ID_POOL / id-pool =; root's default identity only
    std::optional<std::string> hostname;
    bool read_only = false;
    std::vector<runtime::MountRequest> mounts;  // in command-line order
    std::vector<runtime::MountRequest> device_binds;  // --dev-bind, targets under /dev/
    runtime::CapabilitySet capabilities;
    bool cap_add_all = false;  // --cap-add=all: every capability nsrun itself has
    std::optional<std::string> user;  // --user as given; resolved against the password database at launch
    std::optional<std::string> chdir;
    bool clearenv = false;
    std::vector<std::string> setenv;  // "K=V", applied in order after --clearenv
    std::vector<runtime::ResourceLimit> rlimits;
    std::vector<int> keep_fds;
    std::string seccomp = "default";
    // --net-only: only the network isolated, as `ip netns exec` does (runtime/net_only.h); refused beside the
    // options above that isolate or restrict anything more.
    bool net_only = false;
};

struct ParseResult {
    enum class Action { run, print_help, print_version, list, exec, print_seccomp_profile } action = Action::run;
    Options options;
    std::string text;   // for print_help / print_version / print_seccomp_profile
    bool json = false;  // list --json
    std::string target; // exec: the name of the running sandbox to join
};

// Where settings come from besides the command line: the environment (NSRUN_SUBNET[6], NSRUN_ID_POOL,
// NSRUN_CONFIG) and the
// config file (/etc/nsrun/nsrun.conf, or $NSRUN_CONFIG). Precedence: command line, environment, file, default.
struct Sources {
    std::function<std::optional<std::string>(const std::string& name)> getenv;
    std::function<std::optional<std::string>(const std::string& path)> read_file;
    static Sources of_process();
};

inline constexpr const char* kDefaultConfigPath = "/etc/nsrun/nsrun.conf";

// Throws nsrun::Error ("what", "why") for bad input.
ParseResult parse_command_line(const std::vector<std::string>& args, const Sources& sources);

}  // namespace nsrun::cli
