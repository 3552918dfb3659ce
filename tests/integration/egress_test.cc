// Egress isolation, on by default for --net=nat: a sandbox reaches what the host reaches outside, but not the
// host's own services (unless --allow-host) and not other sandboxes, with shared rules that no launch changes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Prints "URL CODE" per URL: 200 when it answered, 000 when nothing did within 2 s. Exits 0 either way.
std::string ProbeScript(const std::vector<std::string>& urls) {
    std::string script;
    for (const auto& url : urls)
        script += "curl -s -g -o /dev/null --connect-timeout 2 --max-time 3 -w '" + url + " %{http_code}\\n' '" + url +
                  "'; ";
    return script + "true; ";
}

// Every address of the lab host, as a sandbox would use it: the gateways (IPv4 and IPv6) and the uplink's.
const std::vector<std::string> kHostUrls = {"http://203.0.113.1:8000/", "http://198.51.100.2:8000/",
                                            "http://[2001:db8:1::2]:8000/", "http://[fe80::1%eth0]:8000/"};

// `nft list ruleset` without counter values: what the rules are, not how much they counted.
std::string Rules(const Lab& lab) {
    Result r = lab.Host({"nft", "--stateless", "list", "ruleset"}, 10s);
    EXPECT_EQ(r.status, 0) << r.Describe();
    return r.out;
}

class EgressTest : public LabTest {
protected:
    // A web server on every address of the lab host, port 8000; the control proves it answers.
    void StartHostServer() {
        server_.emplace(lab().InHost({"python3", "-m", "http.server", "--bind", "::", "8000"}));
        ASSERT_TRUE(Eventually(
            [&] {
                return lab().Host({"curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://127.0.0.1:8000/"})
                           .status == 0;
            },
            10s));
    }
    void TearDown() override {
        server_.reset();
        LabTest::TearDown();
    }
    std::optional<Process> server_;
};

TEST_F(EgressTest, HostServicesAreClosedToSandboxesOnEveryHostAddressUnlessAllowHost) {
    StartHostServer();
    auto start = std::chrono::steady_clock::now();
    Result r = lab().RunNsrun(Nat({"sh", "-c", ProbeScript(kHostUrls) + ProbeScript({"http://example.com/"})}));
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(r.status, 0) << r.Describe();
    for (const auto& url : kHostUrls) EXPECT_THAT(r.out, HasSubstr(url + " 000")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("http://example.com/ 200")) << "the outside stays reachable";
    EXPECT_LT(took, 20s) << "dropped, so every attempt ends at its own timeout";
    EXPECT_THAT(Rules(lab()), HasSubstr("chain host_isolation"));

    Result allowed = lab().RunNsrun(Nat({"sh", "-c", ProbeScript(kHostUrls)}, {"--allow-host"}));
    ASSERT_EQ(allowed.status, 0) << allowed.Describe();
    for (const auto& url : kHostUrls) EXPECT_THAT(allowed.out, HasSubstr(url + " 200")) << allowed.out;
}

TEST_F(EgressTest, IsolationAppliesToIpv4OnlySandboxesToo) {
    StartHostServer();
    Result r = lab().RunNsrun(Nat({"sh", "-c", ProbeScript({"http://203.0.113.1:8000/", "http://198.51.100.2:8000/"})},
                                  {"--ipv6=off"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "http://203.0.113.1:8000/ 000\nhttp://198.51.100.2:8000/ 000\n");
}

TEST_F(EgressTest, TwoSandboxesCannotReachEachOtherButTheHostReachesBoth) {
    // A: a web server on its eth0 addresses; prints them once it listens.
    Process a(lab().Nsrun(Nat({"sh", "-c",
                               "python3 -m http.server --bind :: 8080 >/dev/null 2>&1 & "
                               "for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; "
                               "sleep 0.05; done; ip -o addr show dev eth0 scope global; echo ready; wait"})));
    ASSERT_TRUE(a.WaitForOutput("ready\n", 15s)) << a.Wait(1s).Describe();
    std::smatch m4, m6;
    const std::string out = a.out();
    ASSERT_TRUE(std::regex_search(out, m4, std::regex(R"(inet (203\.0\.113\.\d+)[ /])"))) << out;
    ASSERT_TRUE(std::regex_search(out, m6, std::regex(R"(inet6 (2001:db8:6e73::[0-9a-f]+)/128)"))) << out;
    const std::vector<std::string> urls = {"http://" + m4[1].str() + ":8080/", "http://[" + m6[1].str() + "]:8080/"};

    // Control: the server answers, from the host.
    for (const auto& url : urls) {
        Result host = lab().Host({"curl", "-s", "-g", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", url});
        EXPECT_EQ(host.out, "200") << url << " " << host.Describe();
    }
    for (const Argv& flags : {Argv{}, Argv{"--allow-host"}}) {
        Result b = lab().RunNsrun(Nat({"sh", "-c", ProbeScript(urls)}, flags));
        ASSERT_EQ(b.status, 0) << b.Describe();
        for (const auto& url : urls) EXPECT_THAT(b.out, HasSubstr(url + " 000")) << b.out;
    }
    a.Signal(SIGTERM);
    a.Wait(10s);
}

TEST_F(EgressTest, DnsByNameWorksAndAResolverOnTheHostItselfIsReachable) {
    StartHostServer();
    Result r = lab().RunNsrun(Nat({"curl", "-sS", "--max-time", "10", "http://example.com/"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("Example Domain"));

    // A resolver on the host's own uplink address (a local dnsmasq forwarding to the lab's DNS server).
    Process dns(lab().InHost({"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                              "--no-hosts", "--bind-interfaces", "--listen-address=198.51.100.2",
                              "--server=198.51.100.53", "--user=root", "--group=root",
                              "--pid-file=" + lab().dir() + "/host-dns.pid"}));
    ASSERT_TRUE(Eventually([&] { return Contains(lab().Host({"ss", "-Hlnu", "src", "198.51.100.2:53"}).out, ":53"); },
                           5s));
    Result via_host = lab().RunNsrun(Nat({"sh", "-c",
                                          "cat /etc/resolv.conf; curl -sS --max-time 10 http://example.com/; " +
                                              ProbeScript({"http://198.51.100.2:8000/"})},
                                         {"--dns=198.51.100.2"}));
    ASSERT_EQ(via_host.status, 0) << via_host.Describe();
    EXPECT_THAT(via_host.out, HasSubstr("nameserver 198.51.100.2"));
    EXPECT_THAT(via_host.out, HasSubstr("Example Domain")) << "DNS to the host's own address, port 53, passes";
    EXPECT_THAT(via_host.out, HasSubstr("http://198.51.100.2:8000/ 000")) << "while its other ports stay closed";
}

TEST_F(EgressTest, LaunchesChangeNoRuleAndLeaveNothingBehind) {
    Result first = lab().RunNsrun(Nat({"true"}));
    ASSERT_EQ(first.status, 0) << first.Describe();
    const std::string rules = Rules(lab());
    EXPECT_THAT(rules, HasSubstr("iifgroup 28275 accept"));
    // The first sandbox's veth goes with its namespace, which the kernel tears down in the background.
    ASSERT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));
    // Concurrent sandboxes, one with --allow-host, and one killed with SIGKILL: the ruleset stays the same.
    Process plain(lab().Nsrun(Nat({"sh", "-c", "echo ready; exec sleep 20"})));
    Process allowed(lab().Nsrun(Nat({"sh", "-c", "echo ready; exec sleep 20"}, {"--allow-host"})));
    ASSERT_TRUE(plain.WaitForOutput("ready\n", 15s)) << plain.Wait(1s).Describe();
    ASSERT_TRUE(allowed.WaitForOutput("ready\n", 15s)) << allowed.Wait(1s).Describe();
    EXPECT_EQ(Rules(lab()), rules);
    auto links = lab().NsrLinks();
    ASSERT_EQ(links.size(), 2u);
    // The --allow-host mark is the host end's interface group, nothing else.
    int grouped = 0;
    for (const auto& link : links)
        grouped += Contains(lab().Host({"ip", "-d", "link", "show", "dev", link}).out, "group 28275");
    EXPECT_EQ(grouped, 1);
    ::kill(allowed.pid(), SIGKILL);  // nsrun itself (lab.sh exec execs it)
    plain.Signal(SIGTERM);
    allowed.Wait(10s);
    plain.Wait(10s);
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));
    EXPECT_EQ(Rules(lab()), rules);
}

TEST_F(EgressTest, SpoofedSourcesAreDropped) {
    // With CAP_NET_ADMIN a sandbox could give itself another address, say another sandbox's: it must not get
    // out with it. Its own address still does.
    size_t before = lab().WebLog().size();
    Result r = lab().RunNsrun(Nat({"sh", "-c",
                                   "ip addr add 203.0.113.250/32 dev eth0 && "
                                   "curl -s -o /dev/null --max-time 3 --interface 203.0.113.250 -w 'spoofed %{http_code}\\n' "
                                   "http://198.51.100.80/; "
                                   "curl -s -o /dev/null --max-time 5 -w 'own %{http_code}\\n' http://198.51.100.80/"},
                                  {"--cap-add=NET_ADMIN", "--ipv6=off"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("spoofed 000"));
    EXPECT_THAT(r.out, HasSubstr("own 200"));
    EXPECT_EQ(lab().WebLog().size(), before + 1);
}

TEST_F(EgressTest, LayoutVersion1TableIsUpgradedInPlace) {
    // What nsrun v1 installed: masquerade and forward guard, no isolation.
    ASSERT_EQ(lab().Host({"nft",
                          "add table inet nsrun { comment \"nsrun v1: NAT for nsrun sandboxes (veths nsr*); safe to "
                          "delete when no nsrun runs\"; }; "
                          "add chain inet nsrun postrouting { type nat hook postrouting priority srcnat; policy accept; }; "
                          "add counter inet nsrun pool_203_0_113_0_24; "
                          "add rule inet nsrun postrouting ip saddr 203.0.113.0/24 oifname != \"nsr*\" counter name "
                          "\"pool_203_0_113_0_24\" masquerade"})
                  .status,
              0);
    StartHostServer();
    Result r = lab().RunNsrun(Nat({"sh", "-c", ProbeScript({"http://203.0.113.1:8000/", "http://example.com/"})}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "http://203.0.113.1:8000/ 000\nhttp://example.com/ 200\n");
    std::string rules = Rules(lab());
    EXPECT_THAT(rules, HasSubstr("nsrun v2:"));
    EXPECT_THAT(rules, Not(HasSubstr("nsrun v1:")));
    EXPECT_THAT(rules, HasSubstr("chain sandbox_isolation"));
}

}  // namespace
}  // namespace nsrun::testing
