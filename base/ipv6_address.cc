#include "base/ipv6_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/ip_address.h"

namespace nsrun {
namespace {

// Whether the first `bits` bits of a and b agree.
bool same_prefix(const Ipv6& a, const Ipv6& b, unsigned bits) {
    size_t whole = bits / 8;
    if (std::memcmp(a.bytes.data(), b.bytes.data(), whole) != 0) return false;
    if (bits % 8 == 0) return true;
    uint8_t mask = uint8_t(0xff << (8 - bits % 8));
    return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

}  // namespace

std::optional<Ipv6> Ipv6::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    std::string terminated(text);
    Ipv6 address;
    if (::inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
    return address;
}

std::string Ipv6::str() const {
    char text[INET6_ADDRSTRLEN];
    return ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text) ? text : "?";
}

std::optional<Ipv6Cidr> Ipv6Cidr::parse(std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto address = Ipv6::parse(text.substr(0, slash));
    auto prefix = parse_decimal(text.substr(slash + 1), 128);
    if (!address || !prefix) return std::nullopt;
    Ipv6Cidr cidr{*address, unsigned(*prefix)};
    // No host bits: the address must equal its own prefix with zeros after it.
    Ipv6 masked = *address;
    for (unsigned bit = cidr.prefix; bit < 128; ++bit) masked.bytes[bit / 8] &= uint8_t(~(0x80 >> (bit % 8)));
    if (!(masked == *address)) return std::nullopt;
    return cidr;
}

std::string Ipv6Cidr::str() const { return network.str() + '/' + std::to_string(prefix); }

bool Ipv6Cidr::contains(const Ipv6& address) const { return same_prefix(network, address, prefix); }

bool Ipv6Cidr::overlaps(const Ipv6Cidr& other) const {
    return same_prefix(network, other.network, prefix < other.prefix ? prefix : other.prefix);
}

Ipv6 Ipv6Cidr::at(uint64_t offset) const {
    Ipv6 address = network;
    unsigned carry = 0;
    for (int i = 15; i >= 0; --i) {
        unsigned sum = address.bytes[size_t(i)] + unsigned(offset & 0xff) + carry;
        address.bytes[size_t(i)] = uint8_t(sum);
        carry = sum >> 8;
        offset >>= 8;
    }
    return address;
}

}  // namespace nsrun
