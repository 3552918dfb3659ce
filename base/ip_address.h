// IPv4 addresses and prefixes as nsrun reads them from users: strict dotted quads, no leading zeros
// (which inet_aton would read as octal), no trailing garbage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nsrun {

struct Ipv4 {
    uint32_t value = 0;  // host byte order

    static std::optional<Ipv4> parse(std::string_view text);
    std::string str() const;
    uint32_t network_order() const;
    friend bool operator==(Ipv4, Ipv4) = default;
};

struct Ipv4Cidr {
    Ipv4 network;
    unsigned prefix = 0;

    // Accepts "A.B.C.D/N" with no host bits set.
    static std::optional<Ipv4Cidr> parse(std::string_view text);
    std::string str() const;
    uint32_t mask() const;
    uint64_t size() const { return uint64_t{1} << (32 - prefix); }
    bool contains(Ipv4 address) const;
    bool overlaps(const Ipv4Cidr& other) const;
    friend bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
};

// Parses a whole decimal number in [0, max]; rejects signs, spaces, leading zeros and overflow.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max);

}  // namespace nsrun
