#include "cmd/list_output.h"

#include <algorithm>

#include "base/hex.h"

namespace nsrun::cli {
namespace {

// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0.
size_t utf8_sequence(std::string_view text, size_t i) {
    auto byte = [&](size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u; };
    auto continuation = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
    unsigned b0 = byte(0);
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        unsigned b1 = byte(1);
        if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F)) return 0;
        return continuation(1) && continuation(2) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        unsigned b1 = byte(1);
        if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 > 0x8F)) return 0;
        return continuation(1) && continuation(2) && continuation(3) ? 4 : 0;
    }
    return 0;
}

std::string json_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + json_string(items[i]);
    return out + "]";
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

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        size_t length = utf8_sequence(text, i);
        if (length == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7F) append_hex(out += "\\u00", c);
        else out.append(text.substr(i, length));
        i += length;
    }
    return out + "\"";
}

std::string sandboxes_json(const std::vector<SandboxRecord>& sandboxes) {
    std::string out = "[";
    for (size_t i = 0; i < sandboxes.size(); ++i) {
        const SandboxRecord& r = sandboxes[i];
        out += i ? ",\n " : "\n ";
        out += "{\"name\": " + json_string(r.name) + ", \"pid\": " + std::to_string(r.nsrun_pid) +
               ", \"init_pid\": " + std::to_string(r.init_pid) + ", \"addresses\": " + json_array(r.addresses) +
               ", \"ports\": " + json_array(r.ports) + ", \"command\": " + json_array(r.command) + "}";
    }
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
        rows.push_back({printable(r.name), std::to_string(r.nsrun_pid), joined(addresses, ","), joined(ports, ","),
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
