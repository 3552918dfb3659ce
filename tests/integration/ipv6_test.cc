// --net=nat is dual-stack where the lab host has an IPv6 default route: a /128 from the IPv6 pool, a default
// route via fe80::1, masquerade to the host's uplink address, IPv6 forwarding turned on without breaking the
// host's own router advertisements, and IPv4 only with --ipv6=off or without an IPv6 way out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <csignal>
#include <string>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPool6 = "2001:db8:6e73::/64";  // kSubnet6Flag's; not the lab's 2001:db8:1::/64

// "ADDRESS/LEN" of every inet6 line in `ip -6 -o addr` output.
std::vector<std::string> Ipv6Addresses(std::string_view output) {
    std::vector<std::string> out;
    for (const auto& line : Lines(output)) {
        auto at = line.find(" inet6 ");
        if (at == std::string::npos) continue;
        auto start = at + 7;
        out.push_back(line.substr(start, line.find(' ', start) - start));
    }
    return out;
}

bool InPrefix6(const std::string& address, const std::string& cidr) {
    in6_addr a{}, n{};
    auto slash = cidr.find('/');
    if (inet_pton(AF_INET6, address.c_str(), &a) != 1 || inet_pton(AF_INET6, cidr.substr(0, slash).c_str(), &n) != 1)
        return false;
    int bits = std::stoi(cidr.substr(slash + 1));
    for (int i = 0; i < bits; ++i) {
        int mask = 0x80 >> (i % 8);
        if ((a.s6_addr[i / 8] & mask) != (n.s6_addr[i / 8] & mask)) return false;
    }
    return true;
}

std::string Sysctl(const Lab& lab, const std::string& name) {
    Result r = lab.Host({"sysctl", "-n", name});
    EXPECT_EQ(r.status, 0) << r.Describe();
    return r.out.substr(0, r.out.find('\n'));
}

// A router advertisement on IFACE for PREFIX/64 (SLAAC allowed), from the sender's link-local address, as a
// router on the lab's "internet" would send it: argv IFACE PREFIX.
constexpr const char* kSendRouterAdvertisement = R"PY(
import socket, struct, sys
index = socket.if_nametoindex(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
prefix = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, sys.argv[2])
s.sendto(ra + prefix, ("ff02::1", 0, 0, index))
)PY";

class Ipv6Test : public LabTest {};

TEST_F(Ipv6Test, Ipv6OnlyNameAndAddressAreReachedAndTheServerSeesTheHostsUplink) {
    size_t before = lab().WebLog().size();
    Result r = lab().RunNsrun(Nat(
        {"sh", "-c",
         "curl -6 -sS --max-time 10 http://ipv6only.example/ && echo == && "
         "curl -sS --max-time 10 -g 'http://[2001:db8:1::80]/'"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto halves = r.out.find("==");
    ASSERT_NE(halves, std::string::npos) << r.out;
    EXPECT_THAT(r.out.substr(0, halves), HasSubstr("Example Domain"));
    EXPECT_THAT(r.out.substr(halves), HasSubstr("Example Domain"));
    auto log = lab().WebLog();
    ASSERT_EQ(log.size(), before + 2) << r.Describe();
    // Masqueraded: the internet sees the lab host's IPv6 uplink address, never the sandbox's 2001:db8:6e73::N.
    EXPECT_EQ(log[before], "2001:db8:1::2 GET /");
    EXPECT_EQ(log[before + 1], "2001:db8:1::2 GET /");
}

TEST_F(Ipv6Test, SandboxHasA128FromThePoolInItsIpv4SlotAndADefaultRouteViaFe80_1) {
    Process p(lab().Nsrun(Nat({"sh", "-c",
                               "ip -6 -o addr show dev eth0 scope global; echo ==; ip -4 -o addr show dev eth0; "
                               "echo ==; ip -6 route show default; echo ready; exec sleep 20"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    const std::string out = p.out();
    auto sections = out.find("==");
    ASSERT_NE(sections, std::string::npos) << out;
    auto v6 = Ipv6Addresses(out.substr(0, sections));
    ASSERT_EQ(v6.size(), 1u) << out;
    ASSERT_TRUE(v6[0].ends_with("/128")) << v6[0];
    const std::string address6 = v6[0].substr(0, v6[0].size() - 4);
    EXPECT_TRUE(InPrefix6(address6, kPool6)) << address6;
    EXPECT_THAT(out, Not(HasSubstr("tentative"))) << "no DAD: the address is usable at once";

    auto v4 = Ipv4Addresses(out);
    ASSERT_EQ(v4.size(), 1u) << out;
    // The same slot N in both pools: 203.0.113.N and 2001:db8:6e73::N (hex).
    unsigned n = unsigned(std::stoul(v4[0].substr(v4[0].rfind('.') + 1)));
    char expected[64];
    std::snprintf(expected, sizeof expected, "2001:db8:6e73::%x", n);
    EXPECT_EQ(address6, expected);
    EXPECT_THAT(out, HasSubstr("default via fe80::1 dev eth0")) << out;

    // The host end holds fe80::1 with the sandbox as its peer and nothing else (no link-local of its own).
    auto nsr = lab().NsrLinks();
    ASSERT_EQ(nsr.size(), 1u);
    Result host_addr = lab().Host({"ip", "-6", "-o", "addr", "show", "dev", nsr[0]});
    auto host_v6 = Ipv6Addresses(host_addr.out);
    ASSERT_EQ(host_v6.size(), 1u) << host_addr.Describe();
    EXPECT_EQ(host_v6[0], "fe80::1") << host_addr.out;
    EXPECT_THAT(host_addr.out, HasSubstr("fe80::1 peer " + address6 + "/128 scope link nodad noprefixroute"));
    Result route = lab().Host({"ip", "-6", "route", "get", address6});
    EXPECT_THAT(route.out, HasSubstr("dev " + nsr[0])) << route.Describe();
    p.Signal(SIGTERM);
    p.Wait(10s);
}

TEST_F(Ipv6Test, Ipv6OffLeavesNoGlobalAddressAndNoRoute) {
    Result r = lab().RunNsrun(Nat({"sh", "-c",
                                   "ip -6 -o addr show scope global; echo ==; ip -6 route show default; echo ==; "
                                   "curl -6 -sS --max-time 5 -g 'http://[2001:db8:1::80]/' || echo v6-failed; "
                                   "curl -sS --max-time 10 http://198.51.100.80/ >/dev/null && echo v4-ok"},
                                  {"--ipv6=off"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out.substr(0, r.out.find("v6-failed")), "==\n==\n") << r.out;
    EXPECT_THAT(r.out, HasSubstr("v6-failed"));
    EXPECT_THAT(r.out, HasSubstr("v4-ok"));
    // IPv4 only: nsrun leaves IPv6 forwarding as it found it.
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.all.forwarding"), "0");
}

TEST_F(Ipv6Test, HostWithoutAnIpv6DefaultRouteGivesIpv4Only) {
    ASSERT_EQ(lab().Host({"ip", "-6", "route", "del", "default"}).status, 0);
    Result r = lab().RunNsrun(Nat({"sh", "-c", "ip -6 -o addr show scope global; echo ==; "
                                               "curl -sS --max-time 10 http://example.com/ >/dev/null && echo ok"},
                                  {"-v"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "==\nok\n");
    EXPECT_THAT(r.err, HasSubstr("IPv4 only: the host has no IPv6 default route"));
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.all.forwarding"), "0");
}

TEST_F(Ipv6Test, AnIpv6NameServerAloneResolvesThroughIpv6Nat) {
    Result r = lab().RunNsrun(Nat({"sh", "-c", "grep ^nameserver /etc/resolv.conf; echo ==; "
                                               "curl -4 -sS --max-time 10 http://example.com/"},
                                  {"--dns=2001:db8:1:0::53"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    // The only server is the lab's IPv6 one, in its canonical form: example.com's A record came over IPv6.
    EXPECT_EQ(r.out.substr(0, r.out.find("==")), "nameserver 2001:db8:1::53\n") << r.out;
    EXPECT_THAT(r.out, HasSubstr("Example Domain"));
}

TEST_F(Ipv6Test, AnIpv6NameServerOnAHostWithoutIpv6Is125AndChangesNothing) {
    ASSERT_EQ(lab().Host({"ip", "-6", "route", "del", "default"}).status, 0);
    std::string before = lab().NftRuleset();
    Result r = lab().RunNsrun(Nat({"true"}, {"--dns=198.51.100.53", "--dns=2001:db8:1::53"}));
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--dns 2001:db8:1::53: the sandbox would have no IPv6: the host has no IPv6 "
                                 "default route"));
    EXPECT_EQ(lab().NftRuleset(), before);
    EXPECT_TRUE(lab().NsrLinks().empty());
    // An IPv4 server alone is fine there: the sandbox goes IPv4 only.
    Result v4 = lab().RunNsrun(Nat({"true"}, {"--dns=198.51.100.53"}));
    EXPECT_EQ(v4.status, 0) << v4.Describe();
}

TEST_F(Ipv6Test, PoolOverlappingAnIpv6RouteIsRefusedAndNothingChanges) {
    ASSERT_EQ(lab().Host({"ip", "-6", "route", "add", "2001:db8:6e73::/48", "dev", "uplink"}).status, 0);
    std::string before = lab().NftRuleset();
    Result r = lab().RunNsrun(Nat({"true"}));
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("IPv6 pool 2001:db8:6e73::/64: 2001:db8:6e73::/64 overlaps the host's route "
                                 "2001:db8:6e73::/48"));
    EXPECT_EQ(lab().NftRuleset(), before);
    EXPECT_TRUE(lab().NsrLinks().empty());
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.all.forwarding"), "0");
    // The same pool is fine once the route is gone, and --ipv6=off never looks at it.
    Result off = lab().RunNsrun(Nat({"true"}, {"--ipv6=off"}));
    EXPECT_EQ(off.status, 0) << off.Describe();
}

TEST_F(Ipv6Test, TooSmallPoolIsBadInput) {
    Result r = lab().RunNsrun({"--net=nat", kSubnetFlag, "--subnet6=2001:db8:6e73::/121", "--", "true"});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--subnet6 2001:db8:6e73::/121: too small for the IPv4 pool 203.0.113.0/24"));
    EXPECT_THAT(lab().NftRuleset(), Not(HasSubstr("nsrun")));
}

// Forwarding on, safely: accept_ra 1 becomes 2 first (an interface the host configures by hand keeps 0), so the
// default route the host learnt from a router advertisement survives and new advertisements still count; the
// guard keeps the host from routing anything else over IPv6.
TEST_F(Ipv6Test, Ipv6ForwardingKeepsTheHostsRouterAdvertisementsAndForwardsOnlySandboxes) {
    ASSERT_EQ(lab().AddNs("lan", "2001:db8:2::1/64", "2001:db8:2::2/64").status, 0);
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv6.conf.x-lan.accept_ra=0"}).status, 0);
    ASSERT_EQ(Sysctl(lab(), "net.ipv6.conf.all.forwarding"), "0");
    ASSERT_EQ(Sysctl(lab(), "net.ipv6.conf.uplink.accept_ra"), "1");
    // The internet's router link-local address must be usable before it can advertise.
    ASSERT_TRUE(Eventually(
        [&] {
            Result r = lab().Inet({"ip", "-6", "-o", "addr", "show", "dev", "lab0", "scope", "link"});
            return r.status == 0 && Contains(r.out, "fe80") && !Contains(r.out, "tentative");
        },
        5s));
    auto learnt_default = [&] { return lab().Host({"ip", "-6", "route", "show", "default", "proto", "ra"}).out; };
    ASSERT_EQ(lab().Inet({"python3", "-c", kSendRouterAdvertisement, "lab0", "2001:db8:5::"}).status, 0);
    ASSERT_TRUE(Eventually([&] { return Contains(learnt_default(), "dev uplink"); }, 5s))
        << "control: the host takes its default route from the advertisement";

    Result r = lab().RunNsrun(Nat({"curl", "-6", "-sS", "--max-time", "10", "-o", "/dev/null", "-g",
                                   "http://[2001:db8:1::80]/"},
                                  {"-v"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("turned on IPv6 forwarding after setting accept_ra=2 (was 1) on default"));
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.all.forwarding"), "1");
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.uplink.accept_ra"), "2");
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.default.accept_ra"), "2");
    EXPECT_EQ(Sysctl(lab(), "net.ipv6.conf.x-lan.accept_ra"), "0");
    // The learnt route survived forwarding, and a new advertisement is still taken (SLAAC address).
    EXPECT_THAT(learnt_default(), HasSubstr("dev uplink"));
    ASSERT_EQ(lab().Inet({"python3", "-c", kSendRouterAdvertisement, "lab0", "2001:db8:6::"}).status, 0);
    EXPECT_TRUE(Eventually(
        [&] { return Contains(lab().Host({"ip", "-6", "-o", "addr", "show", "dev", "uplink"}).out, "2001:db8:6:"); },
        5s));

    // The guard: a namespace behind the host (not a sandbox) is not routed to the internet...
    ASSERT_EQ(lab().Inet({"ip", "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:1::2"}).status, 0);
    ASSERT_TRUE(Eventually(
        [&] { return !Contains(RunCmd(lab().InNs("lan", {"ip", "-6", "addr"})).out, "tentative"); }, 5s));
    Argv ping = lab().InNs("lan", {"ping", "-6", "-n", "-c", "1", "-W", "1", "2001:db8:1::1"});
    EXPECT_NE(RunCmd(ping).status, 0);
    EXPECT_THAT(lab().NftRuleset(), HasSubstr("meta nfproto ipv6 iifname != \"nsr*\" oifname != \"nsr*\" drop"));
    // ...and it is the guard that stops it, forwarding being on.
    ASSERT_EQ(lab().Host({"nft", "flush", "chain", "inet", "nsrun", "forward_guard6"}).status, 0);
    EXPECT_EQ(RunCmd(ping).status, 0);

    // Control: what plain forwarding does to the host's own IPv6 with accept_ra=1. (The kernel only purges a
    // table that learnt a router since its last purge, so the route is learnt afresh first.)
    ASSERT_EQ(lab().Host({"sh", "-c", "sysctl -qw net.ipv6.conf.all.forwarding=0 && "
                                      "sysctl -qw net.ipv6.conf.uplink.accept_ra=1 && "
                                      "ip -6 route del default proto ra dev uplink"})
                  .status,
              0);
    ASSERT_EQ(lab().Inet({"python3", "-c", kSendRouterAdvertisement, "lab0", "2001:db8:7::"}).status, 0);
    ASSERT_TRUE(Eventually([&] { return Contains(learnt_default(), "dev uplink"); }, 5s));
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"}).status, 0);
    EXPECT_THAT(learnt_default(), Not(HasSubstr("dev uplink")));
}

TEST_F(Ipv6Test, Ip6tablesForwardPolicyDropGetsCompatibleAcceptsAndSandboxesStillGetOut) {
    // What Docker does for IPv6 too (ip6tables-nft): policy DROP in ip6 filter FORWARD.
    ASSERT_EQ(lab().Host({"ip6tables", "-P", "FORWARD", "DROP"}).status, 0);
    Result r = lab().RunNsrun(Nat({"curl", "-6", "-sS", "--max-time", "10", "http://ipv6only.example/"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("Example Domain"));
    Result save = lab().Host({"ip6tables", "-S", "FORWARD"});
    ASSERT_EQ(save.status, 0) << save.Describe();
    EXPECT_THAT(save.out, HasSubstr("-A FORWARD -i nsr+ -m comment --comment \"nsrun: let sandboxes (nsr*) out (IPv6)\" "
                                    "-j ACCEPT"));
    EXPECT_THAT(save.out, HasSubstr("-A FORWARD -o nsr+ -m conntrack --ctstate RELATED,ESTABLISHED -m comment "
                                    "--comment \"nsrun: let replies reach sandboxes (nsr*) (IPv6)\" -j ACCEPT"));
    EXPECT_THAT(save.out, Not(HasSubstr("incompatible")));
    // An IPv4-only launch has no business in ip6 chains; a second dual-stack one adds nothing.
    ASSERT_EQ(lab().RunNsrun(Nat({"true"})).status, 0);
    ASSERT_EQ(lab().RunNsrun(Nat({"true"}, {"--ipv6=off"})).status, 0);
    Result again = lab().Host({"ip6tables", "-S", "FORWARD"});
    EXPECT_EQ(again.out, save.out);
}

class Ipv6MtuTest : public Ipv6Test {
protected:
    Argv LabOptions() const override { return {"--uplink-mtu", "1400"}; }
};

TEST_F(Ipv6MtuTest, LinkTakesTheUplinkMtuAndLargeTransfersPassOverIpv6) {
    Result r = lab().RunNsrun(Nat(
        {"sh", "-c",
         "ip -o link show dev eth0; curl -6 -sS --max-time 10 -o /dev/null -w '%{size_download}\\n' -g "
         "'http://[2001:db8:1::80]/bytes/300000' && head -c 300000 /dev/zero | "
         "curl -6 -sS --max-time 10 --data-binary @- -g 'http://[2001:db8:1::80]/upload'"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(MtuOf(r.out), 1400) << r.out;
    EXPECT_THAT(r.out, HasSubstr("300000\ngot 300000\n"));
}

TEST_F(Ipv6Test, LowerIpv6MtuOfTheUplinkGoesOnTheSandboxsIpv6Route) {
    // A router advertisement's MTU option lowers conf/IFACE/mtu below the link's; IPv4 keeps 1500.
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv6.conf.uplink.mtu=1380"}).status, 0);
    Result r = lab().RunNsrun(Nat({"sh", "-c",
                                   "ip -o link show dev eth0; ip -6 route show default; "
                                   "head -c 200000 /dev/zero | curl -6 -sS --max-time 10 --data-binary @- -g "
                                   "'http://[2001:db8:1::80]/upload'"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(MtuOf(r.out), 1500) << r.out;
    EXPECT_THAT(r.out, HasSubstr("default via fe80::1 dev eth0 proto static metric 1024 mtu 1380")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("got 200000"));
}

}  // namespace
}  // namespace nsrun::testing
