#include "cmd/list_output.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/hex.h"

namespace nsrun::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

// The fields of one sandbox, in the order they are printed.
ordered_json sandbox_json(const SandboxRecord& r) {
    // An unnamed sandbox's name is null.
    return {{"name", r.name.empty() ? ordered_json() : ordered_json(r.name)},
            {"pid", r.nsrun_pid}, {"init_pid", r.init_pid},
            {"addresses", r.addresses}, {"ports", r.ports},   {"command", r.command}};
}

// nlohmann's text for the values, laid out on one line with ", " and ": " as `nsrun list --json` has always
// printed. Bytes that are not valid UTF-8 (an argument may be anything) become U+FFFD.
std::string one_line(const ordered_json& value) {
    if (!value.is_object() && !value.is_array())
        return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    std::string out = value.is_object() ? "{" : "[";
    const char* separator = "";
    for (auto it = value.begin(); it != value.end(); ++it) {
        out += separator;
        if (value.is_object()) out += ordered_json(it.key()).dump() + ": ";
        out += one_line(*it);
        separator = ", ";
    }
    return out + (value.is_object() ? "}" : "]");
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
    return out.empty() ? "-" : out;
}

std::string printable(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) append_hex(out += "\\x", u);
        else out += c;
    }
    return out;
}

}  // namespace

std::string sandboxes_json(const std::vector<SandboxRecord>& sandboxes) {
    std::string out = "[";
    for (size_t i = 0; i < sandboxes.size(); ++i) out += (i ? ",\n " : "\n ") + one_line(sandbox_json(sandboxes[i]));
    return out + (sandboxes.empty() ? "]\n" : "\n]\n");
}

std::string sandboxes_table(const std::vector<SandboxRecord>& sandboxes) {
    std::vector<std::vector<std::string>> rows{{"NAME", "PID", "ADDRESSES", "PORTS", "COMMAND"}};
    for (const auto& r : sandboxes) {
        std::vector<std::string> args;
        for (const auto& arg : r.command) args.push_back(printable(arg));
        std::vector<std::string> addresses, ports;
        for (const auto& address : r.addresses) addresses.push_back(printable(address));
        for (const auto& port : r.ports) ports.push_back(printable(port));
        rows.push_back({r.name.empty() ? "-" : printable(r.name), std::to_string(r.nsrun_pid), joined(addresses, ","), joined(ports, ","),
                        joined(args, " ")});
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace nsrun::cli
