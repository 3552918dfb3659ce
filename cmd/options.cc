#include "cmd/options.h"

#include <sched.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <map>
#include <sstream>

#include "base/error.h"
#include "base/files.h"
#include "netsetup/netsetup.h"
#include "runtime/seccomp_filter.h"

namespace nsrun::cli {
namespace {

Ipv4Cidr parse_subnet(const std::string& text, const std::string& origin) {
    auto cidr = Ipv4Cidr::parse(text);
    if (!cidr) fail(origin + " " + text, "not an IPv4 network in CIDR form with no host bits set (e.g. 10.201.0.0/16)");
    return *cidr;
}

Ipv6Cidr parse_subnet6(const std::string& text, const std::string& origin) {
    auto cidr = Ipv6Cidr::parse(text);
    if (!cidr) fail(origin + " " + text, "not an IPv6 network in CIDR form with no host bits set (e.g. fd00:1::/64)");
    return *cidr;
}

int parse_unshare(const std::string& list, bool& user_namespace) {
    int flags = 0;
    std::string_view rest = list;
    if (rest.empty()) fail("--unshare", "empty list");
    while (true) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        if (item == "uts") flags |= CLONE_NEWUTS;
        else if (item == "ipc") flags |= CLONE_NEWIPC;
        else if (item == "cgroup") flags |= CLONE_NEWCGROUP;
        else if (item == "time") flags |= CLONE_NEWTIME;
        else if (item == "user") user_namespace = true;
        else if (item == "all") {
            flags |= CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME;
            user_namespace = true;
        } else if (item != "pid" && item != "mount")  // always new: accepted so scripts can say so
            fail("--unshare " + list, "unknown namespace '" + std::string(item) +
                                          "' (pid, mount, uts, ipc, user, cgroup, time, all; the network is --net)");
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return flags;
}

// A file the sandbox's /dev can hold: /dev/NAME or /dev/DIR/NAME, nothing that climbs out.
bool is_place_in_dev(const std::string& path) {
    if (!path.starts_with("/dev/") || path.size() == 5) return false;
    std::string parts = path.substr(4) + "/";
    return parts.find("//") == std::string::npos && parts.find("/./") == std::string::npos &&
           parts.find("/../") == std::string::npos;
}

int parse_fd(const std::string& text) {
    auto fd = parse_decimal(text, 1 << 20);
    if (!fd || *fd < 3) fail("--keep-fd " + text, "a descriptor number of 3 or more (0, 1 and 2 are always kept)");
    return int(*fd);
}

NetMode parse_net(const std::string& text, std::string& move_interface) {
    if (text == "none") return NetMode::none;
    if (text == "nat") return NetMode::nat;
    if (text == "host") return NetMode::host;
    if (text.starts_with("move:")) {
        move_interface = text.substr(5);
        if (move_interface.empty() || move_interface.size() > 15 || move_interface.find('/') != std::string::npos ||
            move_interface == "." || move_interface == "..")
            fail("--net " + text, "not an interface name");
        return NetMode::move;
    }
    fail("--net " + text, "must be none, nat, host or move:IFACE");
}

bool parse_on_off(const std::string& option, const std::string& text) {
    if (text == "on") return true;
    if (text == "off") return false;
    fail(option + " " + text, "must be on or off");
}

void check_setenv(const std::string& assignment) {
    size_t equals = assignment.find('=');
    if (equals == 0 || equals == std::string::npos) fail("--setenv " + assignment, "expected K=V");
}

void check_chdir(const std::string& dir) {
    if (dir.empty() || dir[0] != '/') fail("--chdir " + dir, "must be an absolute path");
}

constexpr const char* kListHelp =
    "Usage: nsrun list [--json]\n"
    "Show the running sandboxes, named or not: nsrun's pid (signal it to stop the sandbox), name, addresses,\n"
    "published ports and command. Needs root (the records are root's).\n"
    "  --json      one JSON array of objects instead of the table\n"
    "  -h, --help  print this help and exit\n";
constexpr const char* kExecHelp =
    "Usage: nsrun exec [OPTIONS] NAME [--] PROGRAM [ARGS...]\n"
    "Run PROGRAM inside the running sandbox NAME (see nsrun list), in all its namespaces, with its seccomp\n"
    "profile, no capabilities and no_new_privs. It gets the sandbox's launch environment (not the caller's),\n"
    "starts in /, and keeps no descriptor of the caller's but 0, 1 and 2.\n"
    "  --user=USER[:GROUP]  run as USER (names or numbers; default: the sandbox's --user)\n"
    "  --chdir=DIR          working directory (default /)\n"
    "  --setenv=K=V         set a variable over the launch environment (repeatable)\n"
    "  --keep-fd=N          pass descriptor N on (repeatable)\n"
    "  -v, --verbose        log each step with its duration on stderr\n"
    "  -h, --help           print this help and exit\n";

// nsrun list [--json] | nsrun exec [OPTIONS] NAME [--] PROGRAM [ARGS...]
ParseResult parse_subcommand(const std::vector<std::string>& args) {
    ParseResult result;
    auto help = [&](const char* text) {
        result.action = ParseResult::Action::print_help;
        result.text = text;
        return result;
    };
    if (args[0] == "list") {
        result.action = ParseResult::Action::list;
        for (size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--json") result.json = true;
            else if (args[i] == "-h" || args[i] == "--help") return help(kListHelp);
            else fail("list", "unknown argument '" + args[i] + "' (nsrun list [--json])");
        }
        return result;
    }
    result.action = ParseResult::Action::exec;
    const char* usage = " (nsrun exec [OPTIONS] NAME [--] PROGRAM [ARGS...]; see nsrun exec --help)";
    Options& options = result.options;
    size_t i = 1;
    // Options go before the program: before NAME, after it, or both (as docker exec's go before the container).
    auto take_options = [&] {
        for (; i < args.size() && args[i].starts_with("-") && args[i] != "--"; ++i) {
            const std::string& arg = args[i];
            if (arg == "-v" || arg == "--verbose") {
                options.verbose = true;
                continue;
            }
            if (arg == "-h" || arg == "--help") return false;
            size_t equals = arg.find('=');
            const std::string option = arg.substr(0, equals);
            if (option != "--user" && option != "--chdir" && option != "--setenv" && option != "--keep-fd")
                fail("exec", "unknown option " + arg + usage);
            std::string value;
            if (equals != std::string::npos) value = arg.substr(equals + 1);
            else if (++i < args.size()) value = args[i];
            else fail("exec", option + " needs a value" + usage);
            if (option == "--user") {
                if (value.empty()) fail("--user", "no user given");
                options.user = value;
            } else if (option == "--chdir") {
                check_chdir(value);
                options.chdir = value;
            } else if (option == "--setenv") {
                check_setenv(value);
                options.setenv.push_back(value);
            } else {
                options.keep_fds.push_back(parse_fd(value));
            }
        }
        return true;
    };
    if (!take_options()) return help(kExecHelp);
    if (i == args.size() || args[i] == "--") fail("exec", std::string("no sandbox name given") + usage);
    try {
        result.target = net::parse_sandbox_name(args[i]);
    } catch (const Error& error) {
        fail("exec " + args[i], error.why());
    }
    ++i;
    if (!take_options()) return help(kExecHelp);
    if (i < args.size() && args[i] == "--") ++i;
    if (i == args.size() || args[i].empty()) fail("exec", std::string("no program given") + usage);
    options.command.assign(args.begin() + long(i), args.end());
    return result;
}

std::string trim(const std::string& s) {
    size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// "key = value" lines; '#' starts a comment. Unknown keys are errors so a typo does not pass silently.
// Returns the value of `wanted` (subnet, subnet6, id-pool or connections).
std::optional<std::string> setting_from_config(const std::string& path, const std::string& text,
                                               const std::string& wanted) {
    std::optional<std::string> subnet;
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        size_t equals = line.find('=');
        std::string where = path + ":" + std::to_string(number);
        if (equals == std::string::npos) fail(where, "expected 'key = value'");
        std::string key = trim(line.substr(0, equals)), value = trim(line.substr(equals + 1));
        if (key != "subnet" && key != "subnet6" && key != "id-pool" && key != "connections")
            fail(where, "unknown setting '" + key + "'");
        if (key == wanted) subnet = value;
    }
    return subnet;
}

Ipv4Cidr resolve_subnet(const std::optional<std::string>& flag, const Sources& sources) {
    if (flag) return parse_subnet(*flag, "--subnet");
    if (auto env = sources.getenv("NSRUN_SUBNET")) return parse_subnet(*env, "NSRUN_SUBNET");
    std::string path = sources.getenv("NSRUN_CONFIG").value_or(kDefaultConfigPath);
    auto text = sources.read_file(path);
    if (!text && path != kDefaultConfigPath) fail(path, "cannot read the config file named by NSRUN_CONFIG");
    if (text)
        if (auto subnet = setting_from_config(path, *text, "subnet")) return parse_subnet(*subnet, path + ": subnet");
    return *Ipv4Cidr::parse(net::kDefaultPool);
}

// Where the IPv6 pool came from ("--subnet6 fd00::/64"...) is part of the result, for later errors about it.
std::pair<Ipv6Cidr, std::string> resolve_subnet6(const std::optional<std::string>& flag, const Sources& sources) {
    if (flag) return {parse_subnet6(*flag, "--subnet6"), "--subnet6 " + *flag};
    if (auto env = sources.getenv("NSRUN_SUBNET6")) return {parse_subnet6(*env, "NSRUN_SUBNET6"), "NSRUN_SUBNET6 " + *env};
    std::string path = sources.getenv("NSRUN_CONFIG").value_or(kDefaultConfigPath);
    auto text = sources.read_file(path);
    if (text)
        if (auto subnet = setting_from_config(path, *text, "subnet6"))
            return {parse_subnet6(*subnet, path + ": subnet6"), path + ": subnet6 " + *subnet};
    return {*Ipv6Cidr::parse(net::kDefaultPool6), std::string("the default IPv6 pool ") + net::kDefaultPool6};
}

runtime::IdPool resolve_id_pool(const std::optional<std::string>& flag, const Sources& sources) {
    if (flag) return runtime::parse_id_pool(*flag, "--id-pool");
    if (auto env = sources.getenv("NSRUN_ID_POOL")) return runtime::parse_id_pool(*env, "NSRUN_ID_POOL");
    std::string path = sources.getenv("NSRUN_CONFIG").value_or(kDefaultConfigPath);
    if (auto text = sources.read_file(path))
        if (auto pool = setting_from_config(path, *text, "id-pool")) return runtime::parse_id_pool(*pool, path + ": id-pool");
    return runtime::IdPool{};
}

// Per sandbox, but one value for the whole host: it is part of the shared table's rules, which a per-launch
// value would have to rewrite (or add to per sandbox) on every launch that differs. The conntrack table it
// protects is the host's, so its size is the host's administrator's to choose.
uint32_t resolve_connections(const Sources& sources) {
    std::string path = sources.getenv("NSRUN_CONFIG").value_or(kDefaultConfigPath);
    auto text = sources.read_file(path);
    if (!text) return net::kDefaultConnectionLimit;
    auto value = setting_from_config(path, *text, "connections");
    if (!value) return net::kDefaultConnectionLimit;
    auto limit = parse_decimal(*value, 1u << 24);
    if (!limit || *limit == 0)
        fail(path + ": connections " + *value, "a number of connections per sandbox, 1 to 16777216");
    return uint32_t(*limit);
}

const char* kUsage = "nsrun [OPTIONS] [--] PROGRAM [ARGS...]";

class UsageFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override {
        return std::string("Usage: ") + kUsage +
               "\n       nsrun list [--json]\n       nsrun exec [OPTIONS] NAME [--] PROGRAM [ARGS...]\n";
    }
};

}  // namespace

Sources Sources::of_process() {
    return Sources{
        [](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            return value ? std::optional<std::string>(value) : std::nullopt;
        },
        [](const std::string& path) { return nsrun::read_file(path); },
    };
}

ParseResult parse_command_line(const std::vector<std::string>& args, const Sources& sources) {
    if (!args.empty() && (args[0] == "list" || args[0] == "exec")) return parse_subcommand(args);
    CLI::App app{"Run a program in its own network namespace (and pid and mount namespaces).", "nsrun"};
    app.formatter(std::make_shared<UsageFormatter>());
    app.set_help_flag();
    app.set_version_flag();
    app.prefix_command();
    app.footer(
        "Exit status: the program's own; 128+N if it was killed by signal N; 125 if nsrun itself failed;\n"
        "126 if the program cannot be executed; 127 if it was not found.\n"
        "Environment: NSRUN_SUBNET, NSRUN_SUBNET6, NSRUN_ID_POOL (default pools), NSRUN_CONFIG (config file, "
        "default /etc/nsrun/nsrun.conf).");

    bool help = false, version = false;
    std::string net = "none";
    std::vector<std::string> dns;
    std::optional<std::string> subnet, subnet6;
    ParseResult result;
    app.add_flag("-h,--help", help, "Print this help and exit");
    app.add_flag("--version", version, "Print nsrun's version and exit");
    app.add_option("--net", net,
                   "none: only loopback (the default; works without root); nat: eth0 with a private address, a "
                   "default route and NAT to what the host reaches (root); host: the host's network; "
                   "move:IFACE: the host interface IFACE, moved in and given back at the end (root)")
        ->type_name("MODE");
    app.add_option("--dns", dns, "Name server for the sandbox, IPv4 or IPv6 (repeatable; --net=nat or move)")
        ->type_name("IP")
        ->allow_extra_args(false);
    app.add_option_function<std::string>("--subnet", [&](const std::string& value) { subnet = value; },
                                         std::string("Address pool for --net=nat (default ") + net::kDefaultPool + ")")
        ->type_name("CIDR");
    app.add_option_function<std::string>("--subnet6", [&](const std::string& value) { subnet6 = value; },
                                         std::string("IPv6 pool for --net=nat (default ") + net::kDefaultPool6 + ")")
        ->type_name("CIDR");
    app.add_flag("-v,--verbose", result.options.verbose, "Log each set-up step with its duration on stderr");
    std::vector<std::string> publish, addresses;
    std::optional<std::string> ipv6, name, gateway, rate;
    app.add_option("-p,--publish", publish,
                   "Publish the sandbox's PORT on the host's HOSTPORT (repeatable; --net=nat)")
        ->type_name("[HOSTIP:]HOSTPORT:PORT[/tcp|/udp]")
        ->allow_extra_args(false);
    app.add_option("--ipv6", ipv6, "on (default: dual-stack where the host has IPv6) or off; --net=nat")->type_name("on|off");
    app.add_flag("--allow-host", result.options.allow_host, "Let the sandbox reach the host's own services (--net=nat)");
    app.add_option("--name", name, "Name the sandbox: ip netns, nsrun exec and nsrun list know it by NAME")->type_name("NAME");
    app.add_option("--address", addresses, "Address for the moved interface (repeatable; --net=move:IFACE)")
        ->type_name("A.B.C.D/N")
        ->allow_extra_args(false);
    app.add_option("--gateway", gateway, "Default route via IP (--net=move:IFACE)")->type_name("IP");
    app.add_option("--rate", rate, "Limit the sandbox's bandwidth both ways, e.g. 10mbit (--net=nat)")->type_name("RATE");

    Options& options = result.options;
    std::vector<std::string> unshare, setenv, rlimits, keep_fds, cap_add;
    app.add_option("--unshare", unshare,
                   "More namespaces, comma-separated: uts, ipc, user, cgroup, time, all (pid and mount are always new)")
        ->type_name("LIST")
        ->allow_extra_args(false);
    app.add_option("--hostname", options.hostname, "The sandbox's hostname (implies --unshare=uts)")->type_name("NAME");
    app.add_flag("--read-only", options.read_only, "Make the host's whole file system view read-only");
    std::vector<std::string> tmpfs_values, bind_values, ro_bind_values;
    auto* tmpfs = app.add_option("--tmpfs", tmpfs_values, "Mount a fresh tmpfs at PATH (repeatable)")->type_name("PATH")->allow_extra_args(false);
    auto* bind = app.add_option("--bind", bind_values, "Bind SRC at DST (default: SRC), writable (repeatable)")->type_name("SRC[:DST]")->allow_extra_args(false);
    auto* ro_bind = app.add_option("--ro-bind", ro_bind_values, "Bind SRC at DST (default: SRC), read-only (repeatable)")->type_name("SRC[:DST]")->allow_extra_args(false);
    std::vector<std::string> dev_bind_values;
    app.add_option("--dev-bind", dev_bind_values, "Show the host's device DEV in the sandbox's /dev, at DST (default: DEV; under /dev) (repeatable)")
        ->type_name("DEV[:DST]")
        ->allow_extra_args(false);
    app.add_option("--cap-add", cap_add, "Capabilities the program keeps, comma-separated (default: none)")
        ->type_name("CAPS")
        ->allow_extra_args(false);
    app.add_option("--user", options.user, "Run as USER (and GROUP) of the host, with its real ids; names or numbers")
        ->type_name("USER[:GROUP]");
    app.add_flag("--host-identity", options.host_identity,
                 "Root only: the program stays the host's root (no user namespace), so it can change root's files");
    std::optional<std::string> id_pool;
    app.add_option_function<std::string>("--id-pool", [&](const std::string& value) { id_pool = value; },
                                         std::string("Host ids root's sandboxes take their 65,536-id block from (default ") +
                                             runtime::kDefaultIdPool + ")")
        ->type_name("FIRST-END");
    app.add_option("--chdir", options.chdir, "Working directory of the program")->type_name("DIR");
    app.add_option("--setenv", setenv, "Set an environment variable (repeatable)")->type_name("K=V")->allow_extra_args(false);
    app.add_flag("--clearenv", options.clearenv, "Start from an empty environment (then --setenv)");
    app.add_option("--rlimit", rlimits, "Resource limit, e.g. nofile=1024 or core=0:unlimited (repeatable)")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);
    app.add_option("--keep-fd", keep_fds, "Pass descriptor N on to the program (repeatable)")
        ->type_name("N")
        ->allow_extra_args(false);
    app.add_option("--seccomp", options.seccomp, "default (the built-in profile), off, or a profile FILE")
        ->type_name("PROFILE");
    app.add_flag("--net-only", options.net_only,
                 "Isolate only the network, as ip netns exec: the program is TRUSTED, runs as you with every "
                 "capability, no seccomp, in the host's processes and files (for a service such as sshd)");
    bool print_seccomp_profile = false;
    app.add_flag("--print-seccomp-profile", print_seccomp_profile,
                 "Print the built-in seccomp profile as JSON (Docker's and podman's format) and exit");

    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        fail("usage", std::string(e.what()) + " (see nsrun --help)");
    }
    if (help) {
        result.action = ParseResult::Action::print_help;
        result.text = app.help();
        return result;
    }
    if (version) {
        result.action = ParseResult::Action::print_version;
        result.text = std::string("nsrun ") + NSRUN_VERSION + "\n";
        return result;
    }
    if (print_seccomp_profile) {
        result.action = ParseResult::Action::print_seccomp_profile;
        result.text = runtime::SeccompFilter::default_profile_json();
        return result;
    }

    options.net = parse_net(net, options.move_interface);
    std::vector<std::string> command = app.remaining();
    if (!command.empty() && command.front() == "--") command.erase(command.begin());
    else if (!command.empty() && command.front().size() > 1 && command.front()[0] == '-')
        fail("usage", "unknown option " + command.front() + " (see nsrun --help)");
    if (command.empty()) fail("usage", "no program given: " + std::string(kUsage));
    if (command.front().empty()) fail("usage", "the program name is empty");

    options.command = std::move(command);
    for (const auto& server : dns) options.dns.push_back(net::parse_name_server(server));
    if (!options.dns.empty() && options.net != NetMode::nat && options.net != NetMode::move)
        fail("--dns", "only with --net=nat or --net=move:IFACE");
    if (subnet && options.net != NetMode::nat) fail("--subnet", "only with --net=nat");
    if (options.net == NetMode::nat) options.subnet = resolve_subnet(subnet, sources);
    if (options.net == NetMode::nat) options.connections = resolve_connections(sources);
    if (subnet6 && options.net != NetMode::nat) fail("--subnet6", "only with --net=nat");

    bool nat = options.net == NetMode::nat, move = options.net == NetMode::move;
    for (const auto& text : publish) options.publish.push_back(net::parse_port_mapping(text));
    for (size_t i = 0; i < options.publish.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (options.publish[i].host_port == options.publish[j].host_port &&
                options.publish[i].protocol == options.publish[j].protocol)
                fail("--publish " + options.publish[i].str(), "that host port is already published by an earlier -p");
    if (!options.publish.empty() && !nat) fail("--publish", "only with --net=nat");
    if (ipv6) {
        options.ipv6 = parse_on_off("--ipv6", *ipv6);
        if (!nat) fail("--ipv6", "only with --net=nat");
        if (!options.ipv6)
            for (const auto& server : options.dns)
                if (server.needs_ipv6)
                    fail("--dns " + server.address, "an IPv6 name server needs the sandbox's IPv6 (--ipv6=off)");
    }
    if (options.allow_host && !nat) fail("--allow-host", "only with --net=nat");
    if (nat) {
        auto [pool6, origin] = resolve_subnet6(subnet6, sources);
        if (options.ipv6)
            if (auto problem = net::pool6_problem(pool6, options.subnet)) fail(origin, *problem);
        options.subnet6 = pool6;
    }
    if (name) options.name = net::parse_sandbox_name(*name);
    for (const auto& text : addresses) options.addresses.push_back(net::parse_interface_address(text));
    if (!options.addresses.empty() && !move) fail("--address", "only with --net=move:IFACE");
    if (gateway) {
        auto address = Ipv4::parse(*gateway);
        if (!address) fail("--gateway " + *gateway, "not an IPv4 address");
        options.gateway = *address;
        if (!move) fail("--gateway", "only with --net=move:IFACE");
    }
    if (rate) {
        options.rate = net::parse_rate(*rate);
        if (!nat) fail("--rate", "only with --net=nat");
    }
    for (const auto& list : unshare) options.extra_namespaces |= parse_unshare(list, options.user_namespace);
    if (options.hostname) {
        if (options.hostname->empty() || options.hostname->size() > 64)
            fail("--hostname", "a hostname has 1 to 64 characters");
        options.extra_namespaces |= CLONE_NEWUTS;
    }
    // Mounts happen in the order given, whatever their kind: a later bind may cover an earlier tmpfs.
    std::map<const CLI::Option*, size_t> taken;
    for (const CLI::Option* option : app.parse_order()) {
        auto kind = option == tmpfs ? runtime::MountRequest::Kind::tmpfs
                  : option == bind  ? runtime::MountRequest::Kind::bind
                  : option == ro_bind ? runtime::MountRequest::Kind::ro_bind
                                      : std::optional<runtime::MountRequest::Kind>();
        if (!kind) continue;
        options.mounts.push_back(runtime::parse_mount(*kind, option->results().at(taken[option]++)));
    }
    for (const auto& text : dev_bind_values) {
        runtime::MountRequest request;
        size_t colon = text.find(':');
        request.source = text.substr(0, colon);
        request.target = colon == std::string::npos ? request.source : text.substr(colon + 1);
        if (request.source.empty() || request.source[0] != '/') fail("--dev-bind " + text, "DEV must be an absolute path");
        if (!is_place_in_dev(request.target))
            fail("--dev-bind " + text, "DST must be a path below /dev/ without '.' or '..' (e.g. /dev/kvm)");
        options.device_binds.push_back(std::move(request));
    }
    for (const auto& list : cap_add) {
        options.capabilities.bits |= runtime::parse_capabilities(list).bits;
        std::string lower(list);
        for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
        options.cap_add_all |= ("," + lower + ",").find(",all,") != std::string::npos;
    }
    if (options.user && options.user->empty()) fail("--user", "no user given");
    // Only a launch that may take a block reads the pool, so a bad pool setting fails no other launch.
    bool own_identity = options.user || options.host_identity || options.net_only;
    if (id_pool && own_identity) fail("--id-pool", "not with --user, --host-identity or --net-only (no id block is taken)");
    if (!own_identity) options.id_pool = resolve_id_pool(id_pool, sources);
    if (options.chdir) check_chdir(*options.chdir);
    for (const auto& assignment : setenv) {
        check_setenv(assignment);
        options.setenv.push_back(assignment);
    }
    for (const auto& limit : rlimits) options.rlimits.push_back(runtime::parse_rlimit(limit));
    for (const auto& fd : keep_fds) options.keep_fds.push_back(parse_fd(fd));
    if (options.seccomp.empty()) fail("--seccomp", "give default, off or a profile file");
    if (options.net_only) {
        if (options.net == NetMode::host) fail("--net-only --net=host", "nothing would be isolated");
        for (const char* more : {"--unshare", "--hostname", "--read-only", "--tmpfs", "--bind", "--ro-bind",
                                 "--cap-add", "--user", "--seccomp", "--dev-bind"})
            if (app.count(more))
                fail(std::string(more) + " with --net-only",
                     "--net-only runs the program as you, with every capability and no seccomp, in the host's "
                     "view (leave out --net-only to sandbox it)");
    }
    return result;
}

}  // namespace nsrun::cli
