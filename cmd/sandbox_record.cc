#include "cmd/sandbox_record.h"

#include <limits>

#include "base/ip_address.h"

namespace nsrun::cli {
namespace {

constexpr std::string_view kVersionLine = "nsrun-sandbox 1";

std::optional<std::string> unescape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '\\') {
            out += value[i];
            continue;
        }
        if (++i == value.size()) return std::nullopt;
        if (value[i] == '\\') out += '\\';
        else if (value[i] == 'n') out += '\n';
        else return std::nullopt;
    }
    return out;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    auto value = parse_decimal(text, uint64_t(std::numeric_limits<T>::max()));
    if (!value) return false;
    out = T(*value);
    return true;
}

}  // namespace

std::string record_line(std::string_view key, std::string_view value) {
    std::string line(key);
    line += ' ';
    for (char c : value) {
        if (c == '\\') line += "\\\\";
        else if (c == '\n') line += "\\n";
        else line += c;
    }
    line += '\n';
    return line;
}

std::string format_record_head(const SandboxRecord& r) {
    return std::string(kVersionLine) + "\n" + record_line("name", r.name) +
           record_line("nsrun-pid", std::to_string(r.nsrun_pid)) +
           record_line("pid-namespace", std::to_string(r.pid_namespace));
}

std::string format_record_netns(const SandboxRecord& r) {
    return r.netns ? record_line("netns", std::to_string(*r.netns)) : std::string();
}

std::string format_record_body(const SandboxRecord& r) {
    std::string text = record_line("init-pid", std::to_string(r.init_pid)) +
                       record_line("init-start-time", std::to_string(r.init_start_time));
    for (const auto& address : r.addresses) text += record_line("address", address);
    for (const auto& port : r.ports) text += record_line("port", port);
    text += record_line("seccomp", r.seccomp);
    if (r.uid) text += record_line("uid", std::to_string(*r.uid));
    if (r.gid) text += record_line("gid", std::to_string(*r.gid));
    for (const auto& arg : r.command) text += record_line("arg", arg);
    for (const auto& variable : r.env) text += record_line("env", variable);
    return text + "end\n";
}

std::string format_record(const SandboxRecord& r) {
    return format_record_head(r) + format_record_netns(r) + format_record_body(r);
}

std::optional<SandboxRecord> parse_record(std::string_view text) {
    SandboxRecord r;
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos || text.substr(0, newline) != kVersionLine) return std::nullopt;
    text.remove_prefix(newline + 1);
    while (!text.empty()) {
        newline = text.find('\n');
        // A line without its newline is one the owner is still writing: the record is not complete yet.
        if (newline == std::string_view::npos) break;
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline + 1);
        if (line == "end") {
            r.complete = text.empty();
            if (!r.complete) return std::nullopt;
            break;
        }
        size_t space = line.find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        std::string_view key = line.substr(0, space);
        auto value = unescape(line.substr(space + 1));
        if (!value) return std::nullopt;
        bool ok = true;
        if (key == "name") r.name = *value;
        else if (key == "nsrun-pid") ok = parse_number(*value, r.nsrun_pid);
        else if (key == "pid-namespace") ok = parse_number(*value, r.pid_namespace);
        else if (key == "netns") ok = parse_number(*value, r.netns.emplace());
        else if (key == "init-pid") ok = parse_number(*value, r.init_pid);
        else if (key == "init-start-time") ok = parse_number(*value, r.init_start_time);
        else if (key == "address") r.addresses.push_back(*value);
        else if (key == "port") r.ports.push_back(*value);
        else if (key == "seccomp") r.seccomp = *value;
        else if (key == "uid") ok = parse_number(*value, r.uid.emplace());
        else if (key == "gid") ok = parse_number(*value, r.gid.emplace());
        else if (key == "arg") r.command.push_back(*value);
        else if (key == "env") r.env.push_back(*value);
        if (!ok) return std::nullopt;
    }
    return r;
}

}  // namespace nsrun::cli
