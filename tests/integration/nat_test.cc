// --net=nat: a sandbox with eth0, an address from the pool, a default route and NAT through the lab host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

// The "nameserver" lines of a resolv.conf.
std::vector<std::string> Nameservers(const std::string& text) {
    std::vector<std::string> out;
    for (auto& line : Lines(text))
        if (line.starts_with("nameserver")) out.push_back(line);
    return out;
}

// Text between two marker lines "==" (section 0 is before the first).
std::string Section(const std::string& out, int index) {
    int i = 0;
    std::string section;
    for (auto& line : Lines(out)) {
        if (line == "==") {
            if (i++ == index) return section;
            section.clear();
            continue;
        }
        if (i == index) section += line + "\n";
    }
    return section;
}

const Argv kCurlPage = {"curl", "-sS", "--max-time", "10", "http://example.com/"};

Argv NatRun(const Argv& program, const std::string& subnet_flag = kSubnetFlag) {
    Argv args{"--net=nat", subnet_flag, "--"};
    args.insert(args.end(), program.begin(), program.end());
    return args;
}

class NatTest : public LabTest {};

TEST_F(NatTest, CurlByNameGetsThePageAndTheServerSeesTheHostAddress) {
    size_t before = lab().WebLog().size();
    Result r = lab().RunNsrun(NatRun(kCurlPage));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("Example Domain"));
    auto log = lab().WebLog();
    ASSERT_EQ(log.size(), before + 1) << r.Describe();
    // NATed: the internet sees the lab host's uplink address, never the sandbox's 203.0.113.x.
    EXPECT_EQ(log.back(), "198.51.100.2 GET /");
}

TEST_F(NatTest, SandboxHasEth0InThePoolADefaultRouteAndLoopbackAndTheHostAVeth) {
    ASSERT_TRUE(lab().NsrLinks().empty());
    Process p(lab().Nsrun(NatRun({"sh", "-c",
                                  "ip -4 -o addr show dev eth0; echo ==; ip -4 route; echo ==; "
                                  "ip -o link show dev lo; echo ==; readlink /proc/self/ns/net; echo ready; "
                                  "exec sleep 20"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    const std::string out = p.out();

    auto addresses = Ipv4Addresses(Section(out, 0));
    ASSERT_EQ(addresses.size(), 1u) << out;
    const std::string address = addresses[0];
    EXPECT_TRUE(InPrefix(address, kPool)) << address;
    EXPECT_NE(address, "203.0.113.0");
    EXPECT_NE(address, "203.0.113.1") << "the pool's first address is the gateway";
    EXPECT_THAT(Section(out, 1), HasSubstr("default via 203.0.113.1 dev eth0")) << out;
    EXPECT_THAT(Section(out, 2), HasSubstr("UP")) << out;
    Result host_ns = lab().Host({"readlink", "/proc/self/ns/net"});
    EXPECT_NE(Section(out, 3), host_ns.out) << "the sandbox must have its own network namespace";

    // The host end: a veth named nsr<N>, and the sandbox address routed to it.
    auto nsr = lab().NsrLinks();
    ASSERT_EQ(nsr.size(), 1u) << ::testing::PrintToString(lab().HostLinks());
    EXPECT_TRUE(nsr[0].size() > 3 && std::all_of(nsr[0].begin() + 3, nsr[0].end(), ::isdigit)) << nsr[0];
    Result route = lab().Host({"ip", "-4", "route", "get", address});
    EXPECT_THAT(route.out, HasSubstr("dev " + nsr[0])) << route.Describe();

    p.Signal(SIGTERM);
    Result r = p.Wait(10s);
    EXPECT_FALSE(r.timed_out) << r.Describe();
    // The veth goes with the sandbox.
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s))
        << ::testing::PrintToString(lab().HostLinks());
}

TEST_F(NatTest, FortyConcurrentLaunchesAllWorkWithDistinctAddresses) {
    constexpr int kCount = 40;
    ScratchPath barrier_file("barrier");  // the lab's directory is under /run, which the sandboxes have their own of
    const std::string& barrier = barrier_file.path();
    // Each sandbox prints its address, fetches a page, then stays up until the barrier file appears, so all
    // forty are alive at once when their addresses are compared.
    const std::string script =
        "ip -4 -o addr show dev eth0 || exit 9; "
        "curl -sS --max-time 30 -o /dev/null -w 'http=%{http_code}\\n' http://example.com/ || exit 8; "
        "i=0; while [ ! -e " + barrier + " ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
        "[ -e " + barrier + " ]";
    std::vector<Process> procs;
    procs.reserve(kCount);
    for (int i = 0; i < kCount; ++i) procs.emplace_back(lab().Nsrun(NatRun({"sh", "-c", script})));

    std::set<std::string> addresses;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    for (int i = 0; i < kCount; ++i) {
        auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        bool ok = procs[i].WaitForOutput("http=", std::max(left, Millis(1)));
        EXPECT_TRUE(ok) << "launch " << i << " did not get a page: " << procs[i].out() << procs[i].err();
        EXPECT_THAT(procs[i].out(), HasSubstr("http=200")) << "launch " << i;
        for (auto& a : Ipv4Addresses(procs[i].out())) {
            EXPECT_TRUE(InPrefix(a, kPool)) << a;
            addresses.insert(a);
        }
    }
    EXPECT_EQ(addresses.size(), static_cast<size_t>(kCount)) << ::testing::PrintToString(addresses);
    EXPECT_EQ(lab().NsrLinks().size(), static_cast<size_t>(kCount));
    WriteFile(barrier, "");
    for (int i = 0; i < kCount; ++i) {
        Result r = procs[i].Wait(30s);
        EXPECT_EQ(r.status, 0) << "launch " << i << ": " << r.Describe();
    }
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s));
}

class NatMtuTest : public NatTest {
protected:
    Argv LabOptions() const override { return {"--uplink-mtu", "1400"}; }
};

TEST_F(NatMtuTest, SandboxAndHostVethTakeTheUplinkMtu) {
    Process p(lab().Nsrun(NatRun({"sh", "-c", "ip -o link show dev eth0; echo ready; exec sleep 20"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    EXPECT_EQ(MtuOf(p.out()), 1400) << p.out();
    auto nsr = lab().NsrLinks();
    ASSERT_EQ(nsr.size(), 1u);
    Result host_end = lab().Host({"ip", "-o", "link", "show", "dev", nsr[0]});
    EXPECT_EQ(MtuOf(host_end.out), 1400) << host_end.Describe();
    p.Signal(SIGTERM);
    p.Wait(10s);

    // Large transfers both ways go through.
    Result r = lab().RunNsrun(NatRun({"sh", "-c",
                                      "curl -sS --max-time 10 -o /dev/null -w '%{size_download}\\n' "
                                      "http://example.com/bytes/300000 && head -c 300000 /dev/zero | "
                                      "curl -sS --max-time 10 --data-binary @- http://example.com/upload"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "300000\ngot 300000\n");
}

class NatStubResolverTest : public NatTest {
protected:
    Argv LabOptions() const override { return {"--resolver", "stub"}; }
};

TEST_F(NatStubResolverTest, SandboxGetsTheUpstreamServerAndHostFileIsUnchanged) {
    const std::string host_file_before = ReadFile(lab().resolv_conf_path());
    ASSERT_EQ(host_file_before, "nameserver 127.0.0.53\n");
    Result r = lab().RunNsrun(NatRun({"sh", "-c", "cat /etc/resolv.conf; echo ==; curl -sS --max-time 10 "
                                                  "http://example.com/"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto servers = Nameservers(Section(r.out, 0));
    EXPECT_THAT(servers, ::testing::Contains("nameserver 198.51.100.53")) << r.out;
    EXPECT_THAT(servers, Not(::testing::Contains("nameserver 127.0.0.53"))) << r.out;
    EXPECT_THAT(Section(r.out, 1), HasSubstr("Example Domain"));
    EXPECT_EQ(ReadFile(lab().resolv_conf_path()), host_file_before);
    Result host_view = lab().Host({"cat", "/etc/resolv.conf"});
    EXPECT_EQ(host_view.out, host_file_before);
}

TEST_F(NatTest, DnsFlagReplacesAUselessHostResolver) {
    // The host's resolver points at an address where nothing answers.
    WriteFile(lab().resolv_conf_path(), "nameserver 198.51.100.99\n");
    Result without = lab().RunNsrun(NatRun({"curl", "-sS", "--max-time", "4", "http://example.com/"}));
    EXPECT_NE(without.status, 0) << "control: names must not resolve through 198.51.100.99\n" << without.Describe();

    Result r = lab().RunNsrun({"--net=nat", kSubnetFlag, "--dns=198.51.100.53", "--", "sh", "-c",
                               "cat /etc/resolv.conf; echo ==; curl -sS --max-time 10 http://example.com/"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(Nameservers(Section(r.out, 0)), ::testing::ElementsAre("nameserver 198.51.100.53")) << r.out;
    EXPECT_THAT(Section(r.out, 1), HasSubstr("Example Domain"));
    EXPECT_EQ(ReadFile(lab().resolv_conf_path()), "nameserver 198.51.100.99\n");

    Result two = lab().RunNsrun({"--net=nat", kSubnetFlag, "--dns=198.51.100.53", "--dns=198.51.100.54", "--",
                                 "cat", "/etc/resolv.conf"});
    ASSERT_EQ(two.status, 0) << two.Describe();
    EXPECT_THAT(Nameservers(two.out),
                ::testing::ElementsAre("nameserver 198.51.100.53", "nameserver 198.51.100.54"));
}

TEST_F(NatTest, ForwardPolicyDropStillLetsTheSandboxOutButNotOtherForwarding) {
    // Two namespaces of the lab host's own, forwarded through it (not through nsrun). The pool is the lower
    // half of 203.0.113.0/24, so it does not overlap their links.
    ASSERT_EQ(lab().AddNs("a", "203.0.113.129/30", "203.0.113.130/30").status, 0);
    ASSERT_EQ(lab().AddNs("b", "203.0.113.133/30", "203.0.113.134/30").status, 0);
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).status, 0);
    const Argv ping = lab().InNs("a", {"ping", "-n", "-c1", "-W1", "203.0.113.134"});
    Result control = RunCmd(ping);
    ASSERT_EQ(control.status, 0) << "control: a reaches b before the policy is DROP\n" << control.Describe();
    ASSERT_EQ(lab().Host({"iptables", "-P", "FORWARD", "DROP"}).status, 0);
    ASSERT_NE(RunCmd(ping).status, 0) << "control: the DROP policy stops a -> b";

    const std::string pool = "--subnet=203.0.113.0/25";
    size_t log_before = lab().WebLog().size();
    Result r = lab().RunNsrun(NatRun({"sh", "-c", "ip -4 -o addr show dev eth0 && echo == && "
                                                  "curl -sS --max-time 10 http://example.com/"}, pool));
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto addresses = Ipv4Addresses(Section(r.out, 0));
    ASSERT_EQ(addresses.size(), 1u) << r.out;
    EXPECT_TRUE(InPrefix(addresses[0], "203.0.113.0/25")) << "the request must come from a sandbox: " << r.out;
    EXPECT_THAT(Section(r.out, 1), HasSubstr("Example Domain"));
    auto log = lab().WebLog();
    ASSERT_EQ(log.size(), log_before + 1);
    EXPECT_EQ(log.back(), "198.51.100.2 GET /");

    // While a sandbox runs, and after, the host's other forwarding stays dropped and its policy unchanged.
    Process p(lab().Nsrun(NatRun({"sh", "-c", "echo ready; exec sleep 20"}, pool)));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    Result during = RunCmd(ping);
    EXPECT_NE(during.status, 0) << "a -> b was forwarded while a sandbox ran\n" << during.Describe();
    p.Signal(SIGTERM);
    p.Wait(10s);
    Result after = RunCmd(ping);
    EXPECT_NE(after.status, 0) << "a -> b was forwarded after a sandbox ran\n" << after.Describe();
    Result policy = lab().Host({"iptables", "-S", "FORWARD"});
    EXPECT_THAT(policy.out, HasSubstr("-P FORWARD DROP")) << policy.Describe();
}

}  // namespace
}  // namespace nsrun::testing
