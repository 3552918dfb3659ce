#include "cmd/options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "netsetup/netsetup.h"

namespace nsrun::cli {
namespace {

Ipv4 parse_dns(const std::string& text) {
    auto address = Ipv4::parse(text);
    if (!address) fail("--dns " + text, "not an IPv4 address");
    return *address;
}

Ipv4Cidr parse_subnet(const std::string& text, const std::string& origin) {
    auto cidr = Ipv4Cidr::parse(text);
    if (!cidr) fail(origin + " " + text, "not an IPv4 network in CIDR form with no host bits set (e.g. 10.201.0.0/16)");
    return *cidr;
}

NetMode parse_net(const std::string& text) {
    if (text == "none") return NetMode::none;
    if (text == "nat") return NetMode::nat;
    if (text == "host") return NetMode::host;
    fail("--net " + text, "must be none, nat or host");
}

std::string trim(const std::string& s) {
    size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// "key = value" lines; '#' starts a comment. Unknown keys are errors so a typo does not pass silently.
std::optional<std::string> subnet_from_config(const std::string& path, const std::string& text) {
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
        if (key != "subnet") fail(where, "unknown setting '" + key + "'");
        subnet = value;
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
        if (auto subnet = subnet_from_config(path, *text)) return parse_subnet(*subnet, path + ": subnet");
    return *Ipv4Cidr::parse(net::kDefaultPool);
}

const char* kUsage = "nsrun [OPTIONS] [--] PROGRAM [ARGS...]";

class UsageFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override { return std::string("Usage: ") + kUsage + "\n"; }
};

}  // namespace

Sources Sources::of_process() {
    return Sources{
        [](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            return value ? std::optional<std::string>(value) : std::nullopt;
        },
        [](const std::string& path) -> std::optional<std::string> {
            std::ifstream in(path);
            if (!in) return std::nullopt;
            std::ostringstream content;
            content << in.rdbuf();
            return content.str();
        },
    };
}

ParseResult parse_command_line(const std::vector<std::string>& args, const Sources& sources) {
    CLI::App app{"Run a program in its own network namespace (and pid and mount namespaces).", "nsrun"};
    app.formatter(std::make_shared<UsageFormatter>());
    app.set_help_flag();
    app.set_version_flag();
    app.prefix_command();
    app.footer(
        "Exit status: the program's own; 128+N if it was killed by signal N; 125 if nsrun itself failed;\n"
        "126 if the program cannot be executed; 127 if it was not found.\n"
        "Environment: NSRUN_SUBNET (default pool), NSRUN_CONFIG (config file, default /etc/nsrun/nsrun.conf).");

    bool help = false, version = false;
    std::string net = "none";
    std::vector<std::string> dns;
    std::optional<std::string> subnet;
    ParseResult result;
    app.add_flag("-h,--help", help, "Print this help and exit");
    app.add_flag("--version", version, "Print nsrun's version and exit");
    app.add_option("--net", net,
                   "none: only loopback (the default; works without root); nat: eth0 with a private address, a "
                   "default route and NAT to what the host reaches (root); host: the host's network")
        ->type_name("MODE");
    app.add_option("--dns", dns, "Name server for the sandbox (repeatable; --net=nat only)")
        ->type_name("IP")
        ->allow_extra_args(false);
    app.add_option_function<std::string>("--subnet", [&](const std::string& value) { subnet = value; },
                                         std::string("Address pool for --net=nat (default ") + net::kDefaultPool + ")")
        ->type_name("CIDR");
    app.add_flag("-v,--verbose", result.options.verbose, "Log each set-up step with its duration on stderr");

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

    Options& options = result.options;
    options.net = parse_net(net);
    std::vector<std::string> command = app.remaining();
    if (!command.empty() && command.front() == "--") command.erase(command.begin());
    else if (!command.empty() && command.front().size() > 1 && command.front()[0] == '-')
        fail("usage", "unknown option " + command.front() + " (see nsrun --help)");
    if (command.empty()) fail("usage", "no program given: " + std::string(kUsage));
    if (command.front().empty()) fail("usage", "the program name is empty");

    options.command = std::move(command);
    for (const auto& server : dns) options.dns.push_back(parse_dns(server));
    if (!options.dns.empty() && options.net != NetMode::nat) fail("--dns", "only with --net=nat");
    if (subnet && options.net != NetMode::nat) fail("--subnet", "only with --net=nat");
    if (options.net == NetMode::nat) options.subnet = resolve_subnet(subnet, sources);
    return result;
}

}  // namespace nsrun::cli
