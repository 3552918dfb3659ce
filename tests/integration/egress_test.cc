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

// Connects to each "tcp|udp HOST PORT" target (HOST may carry a %zone) and prints "tcp HOST PORT RESULT":
// "connected" (for UDP: an answer came back), the errno's name when the attempt failed (ECONNREFUSED for a
// reset, EHOSTUNREACH or EACCES for ICMP admin-prohibited), or "timeout" when nothing came back within
// 10 s, far longer than a refusal takes. Exits 0 either way.
constexpr const char* kConnectProbe = R"PY(
import errno, socket, sys
for target in sys.argv[1:]:
    kind, host, port = target.split()
    stream = kind == "tcp"
    family, _, _, _, address = socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM if stream else socket.SOCK_DGRAM)[0]
    s = socket.socket(family, socket.SOCK_STREAM if stream else socket.SOCK_DGRAM)
    s.settimeout(10)
    try:
        s.connect(address)
        if not stream:
            s.send(b"probe\n")
            s.recv(100)
        result = "connected"
    except socket.timeout:
        result = "timeout"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e.errno))
    print(kind, host, port, result, flush=True)
    s.close()
)PY";

Argv ConnectProbe(const std::vector<std::string>& targets) {
    Argv argv{"python3", "-c", kConnectProbe};
    argv.insert(argv.end(), targets.begin(), targets.end());
    return argv;
}

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

TEST_F(EgressTest, HostServicesRefuseSandboxesAtOnceOnEveryHostAddressUnlessAllowHost) {
    StartHostServer();
    const std::vector<std::string> tcp = {"tcp 203.0.113.1 8000", "tcp 198.51.100.2 8000", "tcp 2001:db8:1::2 8000",
                                          "tcp fe80::1%eth0 8000"};
    std::vector<std::string> targets = tcp;
    targets.insert(targets.end(), {"udp 198.51.100.2 8000", "udp 2001:db8:1::2 8000"});
    Result r = lab().RunNsrun(Nat(ConnectProbe(targets)), 90s);
    ASSERT_EQ(r.status, 0) << r.Describe();
    // A reset: the program's connect() fails at once with "connection refused", never a timeout.
    for (const auto& target : tcp) EXPECT_THAT(r.out, HasSubstr(target + " ECONNREFUSED\n")) << r.out;
    // ICMP admin-prohibited, as the kernel reports it to a UDP socket of each family.
    EXPECT_THAT(r.out, HasSubstr("udp 198.51.100.2 8000 EHOSTUNREACH\n")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("udp 2001:db8:1::2 8000 EACCES\n")) << r.out;
    Result outside = lab().RunNsrun(Nat({"sh", "-c", ProbeScript({"http://example.com/"})}));
    EXPECT_THAT(outside.out, HasSubstr("http://example.com/ 200")) << "the outside stays reachable";
    EXPECT_THAT(Rules(lab()), HasSubstr("chain host_isolation"));

    Result allowed = lab().RunNsrun(Nat({"sh", "-c", ProbeScript(kHostUrls)}, {"--allow-host"}));
    ASSERT_EQ(allowed.status, 0) << allowed.Describe();
    for (const auto& url : kHostUrls) EXPECT_THAT(allowed.out, HasSubstr(url + " 200")) << allowed.out;
}

TEST_F(EgressTest, IsolationAppliesToIpv4OnlySandboxesToo) {
    StartHostServer();
    Result r = lab().RunNsrun(Nat(ConnectProbe({"tcp 203.0.113.1 8000", "tcp 198.51.100.2 8000"}), {"--ipv6=off"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "tcp 203.0.113.1 8000 ECONNREFUSED\ntcp 198.51.100.2 8000 ECONNREFUSED\n");
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
    const std::vector<std::string> targets = {"tcp " + m4[1].str() + " 8080", "tcp " + m6[1].str() + " 8080"};
    for (const Argv& flags : {Argv{}, Argv{"--allow-host"}}) {
        Result b = lab().RunNsrun(Nat(ConnectProbe(targets), flags));
        ASSERT_EQ(b.status, 0) << b.Describe();
        for (const auto& target : targets) EXPECT_THAT(b.out, HasSubstr(target + " ECONNREFUSED\n")) << b.out;
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

TEST_F(EgressTest, Port53OfTheHostIsOpenOnlyToTheResolversTheSandboxWasGiven) {
    // A private TCP service on port 53 of every host address, which no sandbox's resolver is, by default.
    Process service(lab().InHost({"python3", "-m", "http.server", "--bind", "::", "53"}));
    ASSERT_TRUE(Eventually([&] { return Contains(lab().Host({"ss", "-Hltn", "sport", "= :53"}).out, ":53"); }, 10s));
    const std::string v4 = "tcp 198.51.100.2 53", v6 = "tcp 2001:db8:1::2 53", gateway = "tcp 203.0.113.1 53";
    const std::vector<std::string> targets = {v4, v6, gateway};
    auto probe = [&](const Argv& flags) {
        Result r = lab().RunNsrun(Nat(ConnectProbe(targets), flags));
        EXPECT_EQ(r.status, 0) << r.Describe();
        return r.out;
    };
    std::string plain = probe({});
    for (const auto& target : targets) EXPECT_THAT(plain, HasSubstr(target + " ECONNREFUSED\n")) << plain;
    // --dns names one host address: exactly it opens, on its port 53 only.
    std::string given4 = probe({"--dns=198.51.100.2"});
    EXPECT_THAT(given4, HasSubstr(v4 + " connected\n")) << given4;
    EXPECT_THAT(given4, HasSubstr(v6 + " ECONNREFUSED\n")) << given4;
    EXPECT_THAT(given4, HasSubstr(gateway + " ECONNREFUSED\n")) << given4;
    std::string given6 = probe({"--dns=2001:db8:1::2"});
    EXPECT_THAT(given6, HasSubstr(v6 + " connected\n")) << given6;
    EXPECT_THAT(given6, HasSubstr(v4 + " ECONNREFUSED\n")) << given6;
    // The host's own resolv.conf naming the host: the sandbox gets that file, and that address.
    ASSERT_EQ(RunCmd({"sh", "-c", "echo nameserver 198.51.100.2 >" + lab().resolv_conf_path()}).status, 0);
    std::string from_file = probe({});
    EXPECT_THAT(from_file, HasSubstr(v4 + " connected\n")) << from_file;
    EXPECT_THAT(from_file, HasSubstr(gateway + " ECONNREFUSED\n")) << from_file;
    // Only nsrun's own rules can open it: a host rule setting the mark bit nsrun uses does not.
    ASSERT_EQ(RunCmd({"sh", "-c", "echo nameserver 198.51.100.53 >" + lab().resolv_conf_path()}).status, 0);
    ASSERT_EQ(lab().Host({"nft", "add table ip marker; add chain ip marker pre { type filter hook prerouting "
                                 "priority 0; }; add rule ip marker pre iifname \"nsr*\" meta mark set 0x2000"})
                  .status,
              0);
    std::string marked = probe({});
    for (const auto& target : targets) EXPECT_THAT(marked, HasSubstr(target + " ECONNREFUSED\n")) << marked;
    // The opening is the sandbox's own table, owned by its nsrun: gone with it.
    EXPECT_TRUE(Eventually([&] { return !Contains(Rules(lab()), "nsrun_dns_"); }, 5s)) << Rules(lab());
}

TEST_F(EgressTest, ASigkilledNsrunTakesItsPort53OpeningWithIt) {
    Process service(lab().InHost({"python3", "-m", "http.server", "--bind", "::", "53"}));
    ASSERT_TRUE(Eventually([&] { return Contains(lab().Host({"ss", "-Hltn", "sport", "= :53"}).out, ":53"); }, 10s));
    Process given(lab().Nsrun(Nat({"sh", "-c", "echo ready; exec sleep 30"}, {"--dns=198.51.100.2"})));
    ASSERT_TRUE(given.WaitForOutput("ready\n", 15s)) << given.Wait(1s).Describe();
    EXPECT_THAT(Rules(lab()), HasSubstr("table inet nsrun_dns_nsr"));
    ::kill(given.pid(), SIGKILL);  // nsrun itself (lab.sh exec execs it)
    given.Wait(10s);
    EXPECT_TRUE(Eventually([&] { return !Contains(Rules(lab()), "nsrun_dns_"); }, 5s)) << Rules(lab());
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));
    // The next sandbox, on whatever slot, finds port 53 closed again.
    Result next = lab().RunNsrun(Nat(ConnectProbe({"tcp 198.51.100.2 53"})));
    EXPECT_EQ(next.out, "tcp 198.51.100.2 53 ECONNREFUSED\n") << next.Describe();
}

// Sends one datagram to the host's UDP port 9999 from `address` (another sandbox's), then one from the
// sandbox's own address: IPV6_FREEBIND binds any IPv6 address without a capability; IPv4 needs
// IP_TRANSPARENT, and so CAP_NET_ADMIN.
constexpr const char* kSpoofedDatagrams = R"PY(
import socket, sys
IPV6_FREEBIND, IP_TRANSPARENT = 78, 19
for other, host, family, level, option in ((sys.argv[1], "2001:db8:1::2", socket.AF_INET6, socket.IPPROTO_IPV6, IPV6_FREEBIND),
                                            (sys.argv[2], "198.51.100.2", socket.AF_INET, socket.IPPROTO_IP, IP_TRANSPARENT)):
    spoofed = socket.socket(family, socket.SOCK_DGRAM)
    spoofed.setsockopt(level, option, 1)
    spoofed.bind((other, 0))
    spoofed.sendto(b"spoofed", (host, 9999))
    socket.socket(family, socket.SOCK_DGRAM).sendto(b"own", (host, 9999))
print("sent", flush=True)
)PY";

// Prints "SOURCE DATA" per datagram received on port 9999 of every host address.
constexpr const char* kDatagramLog = R"PY(
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9999))
print("listening", flush=True)
while True:
    data, source = s.recvfrom(100)
    print(source[0].removeprefix("::ffff:"), data.decode(), flush=True)
)PY";

TEST_F(EgressTest, SpoofedSourcesNeverReachTheHost) {
    Process log(lab().InHost({"python3", "-c", kDatagramLog}));
    ASSERT_TRUE(log.WaitForOutput("listening\n", 10s)) << log.Wait(1s).Describe();
    // A: the sandbox whose addresses B forges.
    Process a(lab().Nsrun(Nat({"sh", "-c", "ip -o addr show dev eth0 scope global; echo ready; exec sleep 30"})));
    ASSERT_TRUE(a.WaitForOutput("ready\n", 15s)) << a.Wait(1s).Describe();
    std::smatch m4, m6;
    const std::string out = a.out();
    ASSERT_TRUE(std::regex_search(out, m4, std::regex(R"(inet (203\.0\.113\.\d+)[ /])"))) << out;
    ASSERT_TRUE(std::regex_search(out, m6, std::regex(R"(inet6 (2001:db8:6e73::[0-9a-f]+)/128)"))) << out;
    // B may reach the host's services (--allow-host), and still not in A's name.
    Result b = lab().RunNsrun(Nat({"sh", "-c",
                                   "ip -o addr show dev eth0 scope global; python3 -c '" + std::string(kSpoofedDatagrams) +
                                       "' " + m6[1].str() + " " + m4[1].str()},
                                  {"--allow-host", "--cap-add=NET_ADMIN"}));
    ASSERT_EQ(b.status, 0) << b.Describe();
    std::smatch b4, b6;
    ASSERT_TRUE(std::regex_search(b.out, b4, std::regex(R"(inet (203\.0\.113\.\d+)[ /])"))) << b.out;
    ASSERT_TRUE(std::regex_search(b.out, b6, std::regex(R"(inet6 (2001:db8:6e73::[0-9a-f]+)/128)"))) << b.out;
    // Control: B's own datagrams arrive, so the spoofed ones, sent first, had their chance.
    EXPECT_TRUE(log.WaitForOutput(b6[1].str() + " own\n", 10s)) << log.out();
    EXPECT_TRUE(log.WaitForOutput(b4[1].str() + " own\n", 10s)) << log.out();
    EXPECT_THAT(log.out(), Not(HasSubstr("spoofed"))) << log.out();
    a.Signal(SIGTERM);
    a.Wait(10s);
}

TEST_F(EgressTest, ConnectionsPerSandboxAreCappedAndTheNextOneIsRefusedAtOnce) {
    const std::string config = lab().dir() + "/nsrun.conf";
    ASSERT_EQ(RunCmd({"sh", "-c", "echo 'connections = 4' >" + config}).status, 0);
    // Holds 4 connections to the lab's web server, tries a 5th, closes all, then connects again (the closed
    // ones stop counting once their conntrack entries leave ESTABLISHED; bounded retries).
    const std::string script = R"PY(
import errno, socket, time
def connect():
    s = socket.socket(); s.settimeout(10)
    try:
        s.connect(("198.51.100.80", 80)); return s, "connected"
    except socket.timeout:
        return None, "timeout"
    except OSError as e:
        return None, errno.errorcode.get(e.errno, str(e.errno))
held = [connect() for _ in range(4)]
print("held", " ".join(result for _, result in held))
print("over the limit", connect()[1])
for s, _ in held: s.close()
for attempt in range(50):
    s, result = connect()
    if result == "connected": break
    time.sleep(0.1)
print("after closing", result, flush=True)
)PY";
    Result r = lab().RunNsrun(Nat({"python3", "-c", script}), 60s, {"NSRUN_CONFIG=" + config});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("held connected connected connected connected\n")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("over the limit ECONNREFUSED\n")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("after closing connected\n")) << r.out;
    EXPECT_THAT(Rules(lab()), HasSubstr("ct count over 4 ")) << "the limit is the config file's";
    // Another sandbox has a count of its own.
    Result other = lab().RunNsrun(Nat(ConnectProbe({"tcp 198.51.100.80 80"})), 30s, {"NSRUN_CONFIG=" + config});
    EXPECT_THAT(other.out, HasSubstr("tcp 198.51.100.80 80 connected\n")) << other.Describe();
}

TEST_F(EgressTest, TurningOnForwardingIsSaidOnceWhenItHappens) {
    // The lab host forwards nothing (a new namespace inherits the machine's IPv4 setting): the first launch
    // turns forwarding on and installs the guards.
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv4.ip_forward=0"}).status, 0);
    Result first = lab().RunNsrun(Nat({"true"}));
    ASSERT_EQ(first.status, 0) << first.Describe();
    EXPECT_EQ(first.err,
              "nsrun: turned on IPv4 and IPv6 forwarding for the sandboxes; the host forwards nothing else (chains "
              "forward_guard and forward_guard6 of table inet nsrun drop it): to forward other traffic too, see "
              "README, \"IP forwarding\"\n");
    Result second = lab().RunNsrun(Nat({"true"}));
    ASSERT_EQ(second.status, 0) << second.Describe();
    EXPECT_EQ(second.err, "") << "said once, when it happened";

    // A launch that fails after turning forwarding on still says so, before its error: the change stays.
    const Argv tiny{"--net=nat", "--subnet=192.0.2.0/30", "--ipv6=off", "--"};  // room for one sandbox
    Argv hold = tiny, fail = tiny;
    hold.insert(hold.end(), {"sh", "-c", "echo ready; exec sleep 30"});
    fail.push_back("true");
    Process holder(lab().Nsrun(hold));
    ASSERT_TRUE(holder.WaitForOutput("ready\n", 15s)) << holder.Wait(1s).Describe();
    ASSERT_EQ(lab().Host({"sysctl", "-qw", "net.ipv4.ip_forward=0"}).status, 0);
    Result full = lab().RunNsrun(fail);
    EXPECT_EQ(full.status, 125) << full.Describe();
    EXPECT_EQ(full.err,
              "nsrun: turned on IPv4 forwarding for the sandboxes; the host forwards nothing else (chain forward_guard "
              "of table inet nsrun drop it): to forward other traffic too, see README, \"IP forwarding\"\n"
              "nsrun: allocating an address in 192.0.2.0/30: all 1 addresses are in use\n");
    holder.Signal(SIGTERM);
    holder.Wait(10s);
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
    EXPECT_THAT(rules, HasSubstr("nsrun v3:"));
    EXPECT_THAT(rules, Not(HasSubstr("nsrun v1:")));
    EXPECT_THAT(rules, HasSubstr("chain sandbox_isolation"));
}

}  // namespace
}  // namespace nsrun::testing
