// IPv6 for --net=nat: addresses and pools as users give them, the pool's fit next to the IPv4 pool, and which
// interfaces keep taking router advertisements when nsrun turns IPv6 forwarding on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "base/error.h"
#include "base/ipv6_address.h"
#include "cmd/options.h"
#include "netsetup/host/ipv6_forwarding.h"
#include "netsetup/netsetup.h"

namespace nsrun {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Ipv6Cidr cidr6(const char* text) { return *Ipv6Cidr::parse(text); }
Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }

TEST(Ipv6Parse, AcceptsAddressesAndPrintsThemCanonically) {
    EXPECT_EQ(Ipv6::parse("2001:db8:1::80")->str(), "2001:db8:1::80");
    EXPECT_EQ(Ipv6::parse("2001:0DB8:0000:0000:0000:0000:0000:0001")->str(), "2001:db8::1");
    EXPECT_EQ(Ipv6::parse("::")->str(), "::");
    EXPECT_EQ(Ipv6::parse("fe80::1")->bytes[15], 1);
    EXPECT_EQ(Ipv6::parse("fe80::1")->bytes[0], 0xfe);
}

TEST(Ipv6Parse, RejectsEverythingElse) {
    for (const char* bad : {"", "1.2.3.4", "2001:db8::1/64", "fe80::1%eth0", "[::1]", "2001:db8:::1", "2001:db8::g",
                            " ::1", "::1 ", "1:2:3:4:5:6:7:8:9"})
        EXPECT_FALSE(Ipv6::parse(bad)) << bad;
}

TEST(Ipv6CidrParse, AcceptsNetworksWithoutHostBits) {
    auto pool = Ipv6Cidr::parse("fd6e:7372:756e::/64");
    ASSERT_TRUE(pool);
    EXPECT_EQ(pool->prefix, 64u);
    EXPECT_EQ(pool->host_bits(), 64u);
    EXPECT_EQ(pool->str(), "fd6e:7372:756e::/64");
    EXPECT_TRUE(Ipv6Cidr::parse("::/0"));
    EXPECT_TRUE(Ipv6Cidr::parse("2001:db8::1/128"));
    EXPECT_TRUE(Ipv6Cidr::parse("2001:db8:0:ff00::/56"));
}

TEST(Ipv6CidrParse, RejectsHostBitsAndBadPrefixes) {
    for (const char* bad : {"2001:db8::1/64", "2001:db8::/129", "2001:db8::/-1", "2001:db8::/064", "2001:db8::",
                            "2001:db8::/", "/64", "2001:db8:0:ff80::/56", "10.0.0.0/8", "2001:db8::/64 "})
        EXPECT_FALSE(Ipv6Cidr::parse(bad)) << bad;
}

TEST(Ipv6Cidr, ContainsOverlapsAndOffsets) {
    Ipv6Cidr pool = cidr6("2001:db8:6e73::/64");
    EXPECT_TRUE(pool.contains(*Ipv6::parse("2001:db8:6e73::ffff")));
    EXPECT_FALSE(pool.contains(*Ipv6::parse("2001:db8:6e74::1")));
    EXPECT_TRUE(pool.overlaps(cidr6("2001:db8::/32")));
    EXPECT_TRUE(cidr6("2001:db8::/32").overlaps(pool));
    EXPECT_FALSE(pool.overlaps(cidr6("2001:db8:1::/64")));  // the lab's uplink
    EXPECT_TRUE(cidr6("::/0").overlaps(pool));
    EXPECT_FALSE(cidr6("fe80::/10").overlaps(cidr6("fd00::/8")));
    EXPECT_TRUE(cidr6("fe80::/10").overlaps(cidr6("febf::/16")));
    // Slot N of the IPv4 pool is address N of the IPv6 pool: 10.201.3.7 is offset 0x0307.
    EXPECT_EQ(pool.at(0x0307).str(), "2001:db8:6e73::307");
    EXPECT_EQ(pool.at(2).str(), "2001:db8:6e73::2");
    EXPECT_EQ(cidr6("2001:db8:0:0:0:0:0:ff00/120").at(0xff).str(), "2001:db8::ffff");
    EXPECT_EQ(cidr6("2001:db8::/32").at(uint64_t{1} << 32).str(), "2001:db8::1:0:0");
}

TEST(Pool6, DefaultPoolIsAUlaThatSpellsNsrunAndFitsAnyIpv4Pool) {
    auto pool = Ipv6Cidr::parse(net::kDefaultPool6);
    ASSERT_TRUE(pool);
    EXPECT_TRUE(cidr6("fc00::/7").overlaps(*pool));
    EXPECT_EQ(pool->network.bytes[1], 'n');
    EXPECT_EQ(pool->network.bytes[2], 's');
    EXPECT_EQ(pool->network.bytes[3], 'r');
    EXPECT_EQ(pool->network.bytes[4], 'u');
    EXPECT_EQ(pool->network.bytes[5], 'n');
    EXPECT_FALSE(net::pool6_problem(*pool, cidr(net::kDefaultPool)));
    EXPECT_FALSE(net::pool6_problem(*pool, cidr("10.0.0.0/8")));
}

TEST(Pool6, MustHaveRoomForEveryIpv4Slot) {
    EXPECT_FALSE(net::pool6_problem(cidr6("2001:db8:6e73::/120"), cidr("203.0.113.0/24")));
    auto problem = net::pool6_problem(cidr6("2001:db8:6e73::/121"), cidr("203.0.113.0/24"));
    ASSERT_TRUE(problem);
    EXPECT_THAT(*problem, HasSubstr("too small for the IPv4 pool 203.0.113.0/24"));
    EXPECT_THAT(*problem, HasSubstr("(/120)"));
    EXPECT_TRUE(net::pool6_problem(cidr6("2001:db8:6e73::/112"), cidr("10.201.0.0/15")));
}

TEST(Pool6, ReservedRangesAreRefused) {
    for (const char* reserved : {"fe80::/64", "ff02::/64", "::/64", "::ffff:0:0/96", "::/0", "fe00::/7"})
        EXPECT_TRUE(net::pool6_problem(cidr6(reserved), cidr("203.0.113.0/24"))) << reserved;
    for (const char* fine : {"fd00::/64", "2001:db8:6e73::/64", "2001:db8::/32", "100::/64"})
        EXPECT_FALSE(net::pool6_problem(cidr6(fine), cidr("203.0.113.0/24"))) << fine;
}

TEST(AcceptRa, OnlyInterfacesAtOneMoveToTwoDefaultFirst) {
    auto names = net::accept_ra_to_keep({{"all", 1}, {"eth0", 1}, {"lo", 1}, {"default", 1}, {"wlan0", 0},
                                         {"tun0", 2}, {"nsr17", 1}, {"nsr", 1}, {"nsrx1", 1}});
    EXPECT_THAT(names, ElementsAre("default", "eth0", "lo", "nsr", "nsrx1"));
}

TEST(AcceptRa, NothingToKeepWhenUserSpaceHandlesAdvertisements) {
    EXPECT_TRUE(net::accept_ra_to_keep({{"all", 0}, {"default", 0}, {"eth0", 0}, {"nsr5", 1}}).empty());
}

// --subnet6, NSRUN_SUBNET6 and the config file's subnet6, with the same precedence as the IPv4 pool's.
struct Host {
    std::map<std::string, std::string> env, files;
    cli::Sources sources() const {
        return {[this](const std::string& name) -> std::optional<std::string> {
                    auto it = env.find(name);
                    return it == env.end() ? std::nullopt : std::optional(it->second);
                },
                [this](const std::string& path) -> std::optional<std::string> {
                    auto it = files.find(path);
                    return it == files.end() ? std::nullopt : std::optional(it->second);
                }};
    }
};

cli::Options parse(std::vector<std::string> args, const Host& host = {}) {
    return cli::parse_command_line(args, host.sources()).options;
}

std::string error_of(std::vector<std::string> args, const Host& host = {}) {
    try {
        parse(std::move(args), host);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(Subnet6Option, PrecedenceIsFlagThenEnvironmentThenFileThenDefault) {
    Host host;
    EXPECT_EQ(parse({"--net=nat", "x"}, host).subnet6.str(), "fd6e:7372:756e::/64");
    host.files["/etc/nsrun/nsrun.conf"] = "subnet = 203.0.113.0/24\nsubnet6 = 2001:db8:6e73::/64 # v6\n";
    auto options = parse({"--net=nat", "x"}, host);
    EXPECT_EQ(options.subnet.str(), "203.0.113.0/24");
    EXPECT_EQ(options.subnet6.str(), "2001:db8:6e73::/64");
    host.env["NSRUN_SUBNET6"] = "2001:db8:6e74::/64";
    EXPECT_EQ(parse({"--net=nat", "x"}, host).subnet6.str(), "2001:db8:6e74::/64");
    EXPECT_EQ(parse({"--net=nat", "--subnet6=2001:db8:6e75::/96", "x"}, host).subnet6.str(), "2001:db8:6e75::/96");
    EXPECT_TRUE(parse({"--net=nat", "x"}, host).ipv6);
    EXPECT_FALSE(parse({"--net=nat", "--ipv6=off", "x"}, host).ipv6);
}

TEST(Subnet6Option, BadInputIsOneErrorNamingWhereItCameFrom) {
    EXPECT_THAT(error_of({"--subnet6=2001:db8::/64", "x"}), HasSubstr("--subnet6: only with --net=nat"));
    EXPECT_THAT(error_of({"--net=nat", "--subnet6=2001:db8::1/64", "x"}), HasSubstr("--subnet6 2001:db8::1/64: not an IPv6"));
    EXPECT_THAT(error_of({"--net=nat", "--subnet6=10.0.0.0/8", "x"}), HasSubstr("not an IPv6 network"));
    EXPECT_THAT(error_of({"--net=nat", "x"}, Host{{{"NSRUN_SUBNET6", "nope"}}, {}}), HasSubstr("NSRUN_SUBNET6 nope"));
    EXPECT_THAT(error_of({"--net=nat", "x"}, Host{{}, {{"/etc/nsrun/nsrun.conf", "subnet6 = fe80::/64\n"}}}),
                HasSubstr("nsrun.conf: subnet6 fe80::/64: overlaps fe80::/10"));
    EXPECT_THAT(error_of({"--net=nat", "--subnet=203.0.113.0/24", "--subnet6=2001:db8::/121", "x"}),
                HasSubstr("--subnet6 2001:db8::/121: too small for the IPv4 pool 203.0.113.0/24"));
    EXPECT_THAT(error_of({"--net=nat", "x"}, Host{{}, {{"/etc/nsrun/nsrun.conf", "subnet7 = x\n"}}}),
                HasSubstr("unknown setting 'subnet7'"));
}

TEST(Subnet6Option, OffMeansTheIpv6PoolNeedNotFit) {
    EXPECT_EQ(parse({"--net=nat", "--ipv6=off", "--subnet=203.0.113.0/24", "--subnet6=2001:db8::/126", "x"}).ipv6,
              false);
    // but it must still be an IPv6 network: a typo is never silently ignored
    EXPECT_THAT(error_of({"--net=nat", "--ipv6=off", "--subnet6=junk", "x"}), HasSubstr("--subnet6 junk"));
}

}  // namespace
}  // namespace nsrun
