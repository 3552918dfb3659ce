// The lab itself (tests/lab/lab.sh), without nsrun: if these fail, every other integration test is moot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LabSelfTest : public LabTest {
protected:
    bool NeedsNsrun() const override { return false; }
};

TEST_F(LabSelfTest, HostFetchesExampleDomainByNameAndServerLogsTheClient) {
    Result v4 = lab().Host({"curl", "-4", "-sS", "--max-time", "5", "http://example.com/"});
    ASSERT_EQ(v4.status, 0) << v4.Describe();
    EXPECT_THAT(v4.out, HasSubstr("Example Domain"));
    Result v6 = lab().Host({"curl", "-6", "-sS", "--max-time", "5", "http://example.com/bytes/5"});
    ASSERT_EQ(v6.status, 0) << v6.Describe();
    EXPECT_EQ(v6.out, "xxxxx");
    EXPECT_THAT(lab().WebLog(), ElementsAre("198.51.100.2 GET /", "2001:db8:1::2 GET /bytes/5"));
}

TEST_F(LabSelfTest, DnsServerAnswersTheLabNames) {
    Result a = lab().Host({"getent", "ahostsv4", "example.com"});
    ASSERT_EQ(a.status, 0) << a.Describe();
    EXPECT_THAT(a.out, HasSubstr("198.51.100.80"));
    Result aaaa = lab().Host({"getent", "ahostsv6", "ipv6only.example"});
    ASSERT_EQ(aaaa.status, 0) << aaaa.Describe();
    EXPECT_THAT(aaaa.out, HasSubstr("2001:db8:1::80"));
    Result none = lab().Host({"getent", "ahostsv4", "ipv6only.example"});
    EXPECT_EQ(none.status, 2) << none.Describe();  // no A record
    EXPECT_EQ(ReadFile(lab().resolv_conf_path()), "nameserver 198.51.100.53\n");
}

TEST_F(LabSelfTest, InternetHasNoRouteBackToTheSandboxPool) {
    // So a sandbox's packets get answers only when nsrun translated their source address.
    Result r = lab().Inet({"ip", "route", "get", "203.0.113.7"});
    EXPECT_NE(r.status, 0) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("unreachable")) << r.Describe();
    Result control = lab().Inet({"ip", "route", "get", "198.51.100.2"});
    EXPECT_EQ(control.status, 0) << "the internet reaches the lab host: " << control.Describe();
}

TEST_F(LabSelfTest, DownRemovesNamespacesFilesAndServers) {
    std::string name = lab().name();
    std::ifstream pidfile(lab().dir() + "/web.pid");
    int web_pid = 0;
    pidfile >> web_pid;
    ASSERT_GT(web_pid, 0);
    ASSERT_TRUE(std::filesystem::exists("/proc/" + std::to_string(web_pid)));
    lab().Down();
    EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-host"));
    EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-inet"));
    EXPECT_FALSE(std::filesystem::exists("/etc/netns/" + name + "-host"));
    EXPECT_FALSE(std::filesystem::exists("/run/nsrun-lab/" + name));
    EXPECT_TRUE(Eventually([&] { return !std::filesystem::exists("/proc/" + std::to_string(web_pid)); }, 5s));
    // Down is idempotent.
    Result again = RunCmd({"bash", LAB_SCRIPT, "down", name});
    EXPECT_EQ(again.status, 0) << again.Describe();
}

TEST_F(LabSelfTest, UpOverALeftoverStartsClean) {
    Result r = lab().Up();
    ASSERT_EQ(r.status, 0) << r.Describe();
    Result curl = lab().Host({"curl", "-4", "-sS", "--max-time", "5", "http://example.com/"});
    EXPECT_EQ(curl.status, 0) << curl.Describe();
    EXPECT_EQ(lab().WebLog().size(), 1u);
}

TEST_F(LabSelfTest, ExtraNamespacesForwardUntilForwardPolicyIsDrop) {
    ASSERT_EQ(lab().AddNs("a", "203.0.113.129/30", "203.0.113.130/30").status, 0);
    ASSERT_EQ(lab().AddNs("b", "203.0.113.133/30", "203.0.113.134/30").status, 0);
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).status, 0);
    Argv ping{"ping", "-n", "-c1", "-W1", "203.0.113.134"};
    Result ok = RunCmd(lab().InNs("a", ping));
    EXPECT_EQ(ok.status, 0) << ok.Describe();
    ASSERT_EQ(lab().Host({"iptables", "-P", "FORWARD", "DROP"}).status, 0);
    Result dropped = RunCmd(lab().InNs("a", ping));
    EXPECT_NE(dropped.status, 0) << dropped.Describe();
}

class StubLabSelfTest : public LabSelfTest {
protected:
    Argv LabOptions() const override { return {"--resolver", "stub"}; }
};

TEST_F(StubLabSelfTest, HostResolvesThroughTheStubAndSeesTheUpstreamFile) {
    bool real_resolve_existed = std::filesystem::exists("/run/systemd/resolve");
    EXPECT_EQ(ReadFile(lab().resolv_conf_path()), "nameserver 127.0.0.53\n");
    Result r = lab().Host({"sh", "-c", "cat /etc/resolv.conf /run/systemd/resolve/resolv.conf; getent ahostsv4 example.com"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("nameserver 127.0.0.53\nnameserver 198.51.100.53\n"));
    EXPECT_THAT(r.out, HasSubstr("198.51.100.80"));
    EXPECT_EQ(std::filesystem::exists("/run/systemd/resolve"), real_resolve_existed);
}

class MtuLabSelfTest : public LabSelfTest {
protected:
    Argv LabOptions() const override { return {"--uplink-mtu", "1400"}; }
};

TEST_F(MtuLabSelfTest, BothUplinkEndsHaveTheMtu) {
    Result host = lab().Host({"ip", "-o", "link", "show", "dev", "uplink"});
    Result inet = lab().Inet({"ip", "-o", "link", "show", "dev", "lab0"});
    EXPECT_EQ(MtuOf(host.out), 1400) << host.Describe();
    EXPECT_EQ(MtuOf(inet.out), 1400) << inet.Describe();
}

}  // namespace
}  // namespace nsrun::testing
