#include "base/ip_address.h"

#include <gtest/gtest.h>

namespace nsrun {
namespace {

TEST(Ipv4Parse, AcceptsDottedQuads) {
    EXPECT_EQ(Ipv4::parse("0.0.0.0")->value, 0u);
    EXPECT_EQ(Ipv4::parse("10.201.0.1")->value, 0x0AC90001u);
    EXPECT_EQ(Ipv4::parse("255.255.255.255")->value, 0xFFFFFFFFu);
    EXPECT_EQ(Ipv4::parse("198.51.100.53")->str(), "198.51.100.53");
}

TEST(Ipv4Parse, RejectsEverythingElse) {
    for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",
                            "1..3.4", "1.2.3.", ".1.2.3", "a.b.c.d", "1.2.3.4/8", "0x1.2.3.4", "+1.2.3.4",
                            "99999999999999999999.1.1.1", "::1"})
        EXPECT_FALSE(Ipv4::parse(bad)) << bad;
}

TEST(Ipv4CidrParse, AcceptsNetworks) {
    auto cidr = Ipv4Cidr::parse("10.201.0.0/16");
    ASSERT_TRUE(cidr);
    EXPECT_EQ(cidr->prefix, 16u);
    EXPECT_EQ(cidr->size(), 65536u);
    EXPECT_EQ(cidr->str(), "10.201.0.0/16");
    EXPECT_TRUE(Ipv4Cidr::parse("0.0.0.0/0"));
    EXPECT_TRUE(Ipv4Cidr::parse("203.0.113.7/32"));
}

TEST(Ipv4CidrParse, RejectsHostBitsAndBadPrefixes) {
    for (const char* bad : {"10.0.0.1/24", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0", "/24", "10.0.0.0/024",
                            "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/ 8"})
        EXPECT_FALSE(Ipv4Cidr::parse(bad)) << bad;
}

TEST(Ipv4Cidr, ContainsAndOverlaps) {
    auto pool = *Ipv4Cidr::parse("203.0.113.0/24");
    EXPECT_TRUE(pool.contains(*Ipv4::parse("203.0.113.255")));
    EXPECT_FALSE(pool.contains(*Ipv4::parse("203.0.114.0")));
    EXPECT_TRUE(pool.overlaps(*Ipv4Cidr::parse("203.0.113.128/25")));
    EXPECT_TRUE(pool.overlaps(*Ipv4Cidr::parse("203.0.0.0/16")));
    EXPECT_TRUE(pool.overlaps(*Ipv4Cidr::parse("0.0.0.0/0")));
    EXPECT_FALSE(pool.overlaps(*Ipv4Cidr::parse("198.51.100.0/24")));
}

TEST(ParseDecimal, BoundsAndForm) {
    EXPECT_EQ(parse_decimal("0", 5), 0u);
    EXPECT_EQ(parse_decimal("5", 5), 5u);
    EXPECT_FALSE(parse_decimal("6", 5));
    EXPECT_FALSE(parse_decimal("05", 5));
    EXPECT_FALSE(parse_decimal("18446744073709551616", UINT64_MAX));
    EXPECT_EQ(parse_decimal("18446744073709551615", UINT64_MAX), UINT64_MAX);
}

}  // namespace
}  // namespace nsrun
