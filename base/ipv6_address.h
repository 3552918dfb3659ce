// IPv6 addresses and prefixes as nsrun reads them from users (inet_pton's syntax: no zone, no brackets) and
// hands them to netlink (16 bytes in network order).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nsrun {

struct Ipv6 {
    std::array<uint8_t, 16> bytes{};  // network order

    static std::optional<Ipv6> parse(std::string_view text);
    std::string str() const;  // RFC 5952 form, as inet_ntop writes it
    friend bool operator==(const Ipv6&, const Ipv6&) = default;
};

struct Ipv6Cidr {
    Ipv6 network;
    unsigned prefix = 0;

    // Accepts "ADDRESS/N" with no host bits set.
    static std::optional<Ipv6Cidr> parse(std::string_view text);
    std::string str() const;
    unsigned host_bits() const { return 128 - prefix; }
    bool contains(const Ipv6& address) const;
    bool overlaps(const Ipv6Cidr& other) const;
    // The network's address plus `offset` (which must fit in the host bits: offset < 2^host_bits()).
    Ipv6 at(uint64_t offset) const;
    friend bool operator==(const Ipv6Cidr&, const Ipv6Cidr&) = default;
};

}  // namespace nsrun
