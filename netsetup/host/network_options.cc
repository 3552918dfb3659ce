#include "netsetup/host/network_options.h"

#include "base/error.h"

namespace nsrun::net {
namespace {

uint16_t parse_port(std::string_view text, const std::string& doing) {
    auto port = parse_decimal(text, 65535);
    if (!port || *port == 0) fail(doing, "'" + std::string(text) + "' is not a port (1-65535)");
    return uint16_t(*port);
}

}  // namespace

std::string PortMapping::str() const {
    return (host_ip ? host_ip->str() + ":" : std::string()) + std::to_string(host_port) + ":" + std::to_string(port) +
           (protocol == Protocol::tcp ? "/tcp" : "/udp");
}

PortMapping parse_port_mapping(std::string_view text) {
    const std::string doing = "--publish " + std::string(text);
    PortMapping mapping;
    std::string_view ports = text;
    size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
        std::string_view protocol = text.substr(slash + 1);
        if (protocol == "tcp") mapping.protocol = PortMapping::Protocol::tcp;
        else if (protocol == "udp") mapping.protocol = PortMapping::Protocol::udp;
        else fail(doing, "the protocol is tcp or udp");
        ports = text.substr(0, slash);
    }
    size_t last = ports.rfind(':');
    if (last == std::string_view::npos) fail(doing, "expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]");
    mapping.port = parse_port(ports.substr(last + 1), doing);
    std::string_view front = ports.substr(0, last);
    size_t first = front.rfind(':');
    if (first != std::string_view::npos) {
        auto address = Ipv4::parse(front.substr(0, first));
        if (!address) fail(doing, "'" + std::string(front.substr(0, first)) + "' is not an IPv4 address");
        mapping.host_ip = *address;
        front = front.substr(first + 1);
    }
    mapping.host_port = parse_port(front, doing);
    return mapping;
}

uint64_t parse_rate(std::string_view text) {
    const std::string doing = "--rate " + std::string(text);
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    auto value = parse_decimal(text.substr(0, digits), UINT32_MAX);
    if (!value || *value == 0) fail(doing, "expected a positive number with a unit, e.g. 10mbit");
    struct Unit {
        const char* name;
        uint64_t bits;
    };
    static constexpr Unit units[] = {{"bit", 1},         {"kbit", 1000},          {"mbit", 1000000},
                                     {"gbit", 1000000000}, {"bps", 8},            {"kbps", 8000},
                                     {"mbps", 8000000},   {"gbps", 8000000000ULL}};
    std::string_view unit = text.substr(digits);
    for (const auto& candidate : units)
        if (unit == candidate.name) {
            uint64_t bytes = *value * candidate.bits / 8;
            if (bytes < 1000) fail(doing, "too slow: at least 8kbit");
            if (bytes > 100'000'000'000ULL) fail(doing, "too fast: at most 800gbit");
            return bytes;
        }
    fail(doing, "unknown unit '" + std::string(unit) + "' (bit, kbit, mbit, gbit, bps, kbps, mbps, gbps)");
}

std::string InterfaceAddress::str() const { return address.str() + "/" + std::to_string(prefix); }

InterfaceAddress parse_interface_address(std::string_view text) {
    const std::string doing = "--address " + std::string(text);
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) fail(doing, "expected A.B.C.D/N");
    auto address = Ipv4::parse(text.substr(0, slash));
    auto prefix = parse_decimal(text.substr(slash + 1), 32);
    if (!address || !prefix) fail(doing, "expected A.B.C.D/N");
    return InterfaceAddress{*address, unsigned(*prefix)};
}

NameServer parse_name_server(std::string_view text) {
    const std::string doing = "--dns " + std::string(text);
    if (auto v4 = Ipv4::parse(text)) return NameServer{v4->str(), false};
    auto v6 = Ipv6::parse(text);
    if (!v6) fail(doing, "not an IPv4 or IPv6 address");
    if (Ipv6Cidr{*Ipv6::parse("fe80::"), 10}.contains(*v6))
        fail(doing, "a link-local server is reachable only on the host's own link, which the sandbox is not on");
    return NameServer{v6->str(), *v6 != *Ipv6::parse("::1")};
}

std::string parse_sandbox_name(std::string_view text) {
    const std::string doing = "--name " + std::string(text);
    if (text.empty() || text.size() > 32) fail(doing, "a name has 1 to 32 characters");
    if (text[0] == '.' || text[0] == '-') fail(doing, "a name does not start with '.' or '-'");
    for (char c : text) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.';
        if (!ok) fail(doing, "a name has only letters, digits, '-', '_' and '.'");
    }
    return std::string(text);
}

}  // namespace nsrun::net
