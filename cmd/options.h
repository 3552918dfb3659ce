// nsrun's command line, environment and config file, turned into what to run. Pure: no side effects, so the
// unit tests and fuzzers drive it directly.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/ip_address.h"

namespace nsrun::cli {

enum class NetMode { none, nat, host };

struct Options {
    NetMode net = NetMode::none;
    std::vector<Ipv4> dns;
    Ipv4Cidr subnet;
    bool verbose = false;
    std::vector<std::string> command;  // program and arguments
};

struct ParseResult {
    enum class Action { run, print_help, print_version } action = Action::run;
    Options options;
    std::string text;  // for print_help / print_version
};

// Where settings come from besides the command line: the environment (NSRUN_SUBNET, NSRUN_CONFIG) and the
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
