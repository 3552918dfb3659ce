#include "base/ip_address.h"

#include <arpa/inet.h>

namespace nsrun {

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        unsigned digit = unsigned(c - '0');
        if (digit > max || value > (max - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
    uint32_t value = 0;
    for (int part = 0; part < 4; ++part) {
        size_t dot = text.find('.');
        bool last = part == 3;
        if (last != (dot == std::string_view::npos)) return std::nullopt;
        auto octet = parse_decimal(text.substr(0, dot), 255);
        if (!octet) return std::nullopt;
        value = (value << 8) | uint32_t(*octet);
        if (!last) text.remove_prefix(dot + 1);
    }
    return Ipv4{value};
}

std::string Ipv4::str() const {
    return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 255) + '.' +
           std::to_string((value >> 8) & 255) + '.' + std::to_string(value & 255);
}

uint32_t Ipv4::network_order() const { return htonl(value); }

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto address = Ipv4::parse(text.substr(0, slash));
    auto prefix = parse_decimal(text.substr(slash + 1), 32);
    if (!address || !prefix) return std::nullopt;
    Ipv4Cidr cidr{*address, unsigned(*prefix)};
    if ((address->value & ~cidr.mask()) != 0) return std::nullopt;
    return cidr;
}

std::string Ipv4Cidr::str() const { return network.str() + '/' + std::to_string(prefix); }

uint32_t Ipv4Cidr::mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

bool Ipv4Cidr::contains(Ipv4 address) const { return (address.value & mask()) == network.value; }

bool Ipv4Cidr::overlaps(const Ipv4Cidr& other) const {
    uint32_t common = prefix < other.prefix ? mask() : other.mask();
    return (network.value & common) == (other.network.value & common);
}

}  // namespace nsrun
