#include "netsetup/host/network_options.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace nsrun::net {
namespace {

TEST(PortMapping, Forms) {
    auto plain = parse_port_mapping("8080:80");
    EXPECT_FALSE(plain.host_ip);
    EXPECT_EQ(plain.host_port, 8080);
    EXPECT_EQ(plain.port, 80);
    EXPECT_EQ(plain.protocol, PortMapping::Protocol::tcp);
    auto full = parse_port_mapping("198.51.100.2:5353:53/udp");
    EXPECT_EQ(full.host_ip->str(), "198.51.100.2");
    EXPECT_EQ(full.protocol, PortMapping::Protocol::udp);
    EXPECT_EQ(full.str(), "198.51.100.2:5353:53/udp");
    EXPECT_EQ(parse_port_mapping("1:65535/tcp").port, 65535);
}

TEST(PortMapping, RejectsBadForms) {
    for (const char* bad : {"", "80", ":80", "80:", "0:80", "80:0", "65536:80", "80:80/sctp", "80:80/", "x:80",
                            "1.2.3:80:80", "1.2.3.4:80", "::80:80", "80:80:80:80", "-1:80", "80 :80"})
        EXPECT_THROW(parse_port_mapping(bad), Error) << bad;
}

TEST(Rate, Units) {
    EXPECT_EQ(parse_rate("10mbit"), 1'250'000u);
    EXPECT_EQ(parse_rate("8kbit"), 1000u);
    EXPECT_EQ(parse_rate("1gbit"), 125'000'000u);
    EXPECT_EQ(parse_rate("2mbps"), 2'000'000u);
    for (const char* bad : {"", "10", "mbit", "0mbit", "10 mbit", "10Mb", "-1mbit", "1kbit", "999gbps"})
        EXPECT_THROW(parse_rate(bad), Error) << bad;
}

TEST(InterfaceAddress, AllowsHostBits) {
    auto address = parse_interface_address("192.0.2.10/24");
    EXPECT_EQ(address.str(), "192.0.2.10/24");
    for (const char* bad : {"192.0.2.10", "192.0.2.10/33", "192.0.2/24", "/24"})
        EXPECT_THROW(parse_interface_address(bad), Error) << bad;
}

TEST(SandboxName, FileNameSafe) {
    EXPECT_EQ(parse_sandbox_name("web-1.test_x"), "web-1.test_x");
    for (const char* bad : {"", ".", "..", "-x", "a/b", "a b", "a\nb", "0123456789012345678901234567890123"})
        EXPECT_THROW(parse_sandbox_name(bad), Error) << bad;
}

}  // namespace
}  // namespace nsrun::net
