// -p/--publish in the lab: a sandbox's server reachable on the lab host's port from the internet, from the host
// itself (its own address and 127.0.0.1), only for as long as nsrun runs, one nsrun per port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An HTTP server that says which sandbox it is and who asked: argv TAG PORT [6] (6: on IPv6 too).
constexpr const char* kHttpServer = R"PY(
import http.server, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from %s to %s\n" % (sys.argv[1], self.client_address[0])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.HTTPServer):
    address_family = socket.AF_INET6 if sys.argv[3:] == ["6"] else socket.AF_INET
server = Server(("::" if Server.address_family == socket.AF_INET6 else "", int(sys.argv[2])), H)
print("ready", flush=True)
server.serve_forever()
)PY";

// A host service listening on [::]:PORT for IPv6 only: argv PORT.
constexpr const char* kIpv6OnlyListener = R"PY(
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::", int(sys.argv[1])))
s.listen()
print("ready", flush=True)
time.sleep(60)
)PY";

// A UDP echo server: argv PORT [TAG].
constexpr const char* kUdpEcho = R"PY(
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", int(sys.argv[1])))
by = (" by " + sys.argv[2]).encode() if len(sys.argv) > 2 else b""
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(b"echo " + data + b" from " + peer[0].encode() + by, peer)
)PY";

// A client that keeps one UDP flow alive (fixed source port, a datagram every 0.1 s, for at most 60 s) and
// prints every answer: argv HOST PORT.
constexpr const char* kUdpFlow = R"PY(
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 40000))
s.settimeout(0.1)
print("ready", flush=True)
for i in range(600):
    s.sendto(b"tick", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(2048).decode(), flush=True)
    except (socket.timeout, ConnectionRefusedError):
        pass
)PY";

// One datagram and its answer: argv HOST PORT MESSAGE.
constexpr const char* kUdpAsk = R"PY(
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
print(s.recv(2048).decode())
)PY";

Argv Publish(const Argv& flags, const Argv& program) {
    Argv args{"--net=nat", kSubnetFlag};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), program.begin(), program.end());
    return args;
}

Argv HttpServer(const std::string& tag, int port = 80) {
    return {"python3", "-c", kHttpServer, tag, std::to_string(port)};
}

Argv Curl(const std::string& url) { return {"curl", "-sS", "-g", "--max-time", "5", url}; }

class PublishTest : public LabTest {
protected:
    std::string NftTables() { return lab().Host({"nft", "list", "tables"}).out; }
    // The names of nsrun's per-sandbox tables in the lab host.
    std::vector<std::string> PublishTables() {
        std::vector<std::string> names;
        for (auto& line : Lines(NftTables()))
            if (line.starts_with("table ip nsrun_nsr")) names.push_back(line.substr(9));
        return names;
    }
};

TEST_F(PublishTest, ReachableFromTheInternetAndTheHostAndGoneWhenTheSandboxEnds) {
    Process p(lab().Nsrun(Publish({"-p", "8080:80"}, HttpServer("one"))));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    // Another machine, by the host's address: the sandbox sees the client's own address (DNAT, no SNAT).
    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    EXPECT_EQ(inet.out, "hello from one to 198.51.100.1\n");
    // The host itself, by its own address and by loopback.
    Result host = lab().Host(Curl("http://198.51.100.2:8080/"));
    ASSERT_EQ(host.status, 0) << host.Describe();
    EXPECT_EQ(host.out, "hello from one to 198.51.100.2\n");
    Result loopback = lab().Host(Curl("http://127.0.0.1:8080/"));
    ASSERT_EQ(loopback.status, 0) << loopback.Describe();
    EXPECT_EQ(loopback.out, "hello from one to 203.0.113.1\n") << "loopback connections arrive from the gateway";

    // One owned table, named for the veth, holding what nft reads back as the intended rules.
    auto links = lab().NsrLinks();
    ASSERT_EQ(links.size(), 1u);
    ASSERT_EQ(PublishTables(), std::vector<std::string>{"nsrun_" + links[0]});
    Result table = lab().Host({"nft", "list", "table", "ip", "nsrun_" + links[0]});
    EXPECT_THAT(table.out, HasSubstr("flags owner"));
    EXPECT_THAT(table.out, HasSubstr("fib daddr type local tcp dport 8080 dnat to 203.0.113."));
    EXPECT_THAT(table.out, HasSubstr("iifname \"" + links[0] + "\" ip daddr 127.0.0.0/8 drop"));
    // route_localnet on this sandbox's host end only.
    EXPECT_EQ(lab().Host({"cat", "/proc/sys/net/ipv4/conf/" + links[0] + "/route_localnet"}).out, "1\n");
    EXPECT_EQ(lab().Host({"cat", "/proc/sys/net/ipv4/conf/all/route_localnet"}).out, "0\n");
    EXPECT_EQ(lab().Host({"cat", "/proc/sys/net/ipv4/conf/uplink/route_localnet"}).out, "0\n");

    p.Signal(SIGTERM);
    Result r = p.Wait(10s);
    EXPECT_EQ(r.status, 128 + SIGTERM) << r.Describe();
    // Gone by the time nsrun has exited, not eventually.
    EXPECT_THAT(PublishTables(), ::testing::IsEmpty()) << NftTables();
    Result after = lab().Inet(Curl("http://198.51.100.2:8080/"));
    EXPECT_NE(after.status, 0) << after.Describe();
    EXPECT_NE(lab().Host(Curl("http://127.0.0.1:8080/")).status, 0);
}

TEST_F(PublishTest, Ipv6ReachesTheSandboxFromTheInternetAndTheHostButNotThroughLoopback) {
    Process p(lab().Nsrun(Publish({"-p", "8080:80"}, {"python3", "-c", kHttpServer, "six", "80", "6"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    // Another machine, by the host's IPv6 address: the sandbox sees the client's own address (DNAT, no SNAT).
    Result inet = lab().Inet(Curl("http://[2001:db8:1::2]:8080/"));
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    // (The internet namespace picks one of its several addresses on lab0; never the lab host's ::2.)
    EXPECT_THAT(inet.out, ::testing::StartsWith("hello from six to 2001:db8:1::"));
    EXPECT_NE(inet.out, "hello from six to 2001:db8:1::2\n");
    Result host = lab().Host(Curl("http://[2001:db8:1::2]:8080/"));
    ASSERT_EQ(host.status, 0) << host.Describe();
    EXPECT_EQ(host.out, "hello from six to 2001:db8:1::2\n");
    // IPv4 as before.
    Result inet4 = lab().Inet(Curl("http://198.51.100.2:8080/"));
    EXPECT_EQ(inet4.out, "hello from six to ::ffff:198.51.100.1\n") << inet4.Describe();
    // The kernel never routes ::1 off loopback: refused at once by the held port, not a silent drop.
    Result loopback6 = lab().Host(Curl("http://[::1]:8080/"));
    EXPECT_EQ(loopback6.status, 7) << "curl: could not connect: " << loopback6.Describe();

    auto links = lab().NsrLinks();
    ASSERT_EQ(links.size(), 1u);
    Result table = lab().Host({"nft", "list", "table", "ip6", "nsrun_" + links[0]});
    EXPECT_THAT(table.out, HasSubstr("flags owner"));
    EXPECT_THAT(table.out, HasSubstr("fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat to [fd6e:7372:756e::"));

    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(10s).status, 128 + SIGTERM);
    EXPECT_THAT(NftTables(), Not(HasSubstr("nsrun_nsr"))) << "both tables go with nsrun";
    EXPECT_NE(lab().Inet(Curl("http://[2001:db8:1::2]:8080/")).status, 0);
}

TEST_F(PublishTest, AnIpv6OnlyHostServiceOnThePortIsRefusedUnlessIpv6IsOff) {
    Process service(lab().InHost({"python3", "-c", kIpv6OnlyListener, "8080"}));
    ASSERT_TRUE(service.WaitForOutput("ready\n", 15s)) << service.Wait(1s).Describe();
    const std::string ruleset = lab().NftRuleset();
    Result r = lab().RunNsrun(Publish({"-p", "8080:80"}, {"true"}));
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--publish 8080:80/tcp: host port 8080/tcp is already in use on IPv6"));
    EXPECT_EQ(lab().NftRuleset(), ruleset);
    EXPECT_TRUE(lab().NsrLinks().empty());
    // An IPv4-only sandbox publishes on IPv4 only, where the port is free.
    Result off = lab().RunNsrun(Publish({"-p", "8080:80", "--ipv6=off"}, {"true"}));
    EXPECT_EQ(off.status, 0) << off.Describe();
}

TEST_F(PublishTest, TheSamePortTwiceInARow) {
    for (const char* tag : {"first", "second"}) {
        SCOPED_TRACE(tag);
        Process p(lab().Nsrun(Publish({"-p", "8080:80"}, HttpServer(tag))));
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
        ASSERT_EQ(inet.status, 0) << inet.Describe();
        EXPECT_EQ(inet.out, std::string("hello from ") + tag + " to 198.51.100.1\n");
        p.Signal(SIGTERM);
        EXPECT_FALSE(p.Wait(10s).timed_out);
        EXPECT_THAT(PublishTables(), ::testing::IsEmpty());
        EXPECT_NE(lab().Inet(Curl("http://198.51.100.2:8080/")).status, 0);
    }
}

TEST_F(PublishTest, ASecondNsrunOnThePortIsRefusedAndChangesNothing) {
    Process first(lab().Nsrun(Publish({"-p", "8080:80"}, HttpServer("first"))));
    ASSERT_TRUE(first.WaitForOutput("ready\n", 15s)) << first.Wait(1s).Describe();
    const std::string ruleset = lab().NftRuleset();
    const auto links = lab().HostLinks();

    Result second = lab().RunNsrun(Publish({"-p", "8080:80"}, HttpServer("second")));
    EXPECT_EQ(second.status, 125) << second.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(second.err));
    EXPECT_THAT(second.err, HasSubstr("--publish 8080:80/tcp: host port 8080/tcp is already in use"));
    EXPECT_EQ(lab().NftRuleset(), ruleset);
    EXPECT_EQ(lab().HostLinks(), links);
    // Also when only one of the two sides names an address.
    Result by_address = lab().RunNsrun(Publish({"-p", "198.51.100.2:8080:80"}, {"true"}));
    EXPECT_EQ(by_address.status, 125) << by_address.Describe();
    EXPECT_THAT(by_address.err, HasSubstr("198.51.100.2:8080/tcp is already in use"));

    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    EXPECT_EQ(inet.out, "hello from first to 198.51.100.1\n");

    // The same number over UDP is another port.
    Result udp = lab().RunNsrun(Publish({"-p", "8080:80/udp"}, {"true"}));
    EXPECT_EQ(udp.status, 0) << udp.Describe();
}

TEST_F(PublishTest, APortAHostServiceUsesIsRefused) {
    Process service(lab().InHost({"python3", "-c", kHttpServer, "host", "8080"}));
    ASSERT_TRUE(service.WaitForOutput("ready\n", 15s)) << service.Wait(1s).Describe();
    const std::string ruleset = lab().NftRuleset();
    Result r = lab().RunNsrun(Publish({"-p", "8080:80"}, {"true"}));
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
    EXPECT_THAT(r.err, HasSubstr("already in use"));
    EXPECT_EQ(lab().NftRuleset(), ruleset);
    EXPECT_TRUE(lab().NsrLinks().empty());
    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    EXPECT_EQ(inet.out, "hello from host to 198.51.100.1\n") << inet.Describe();
}

TEST_F(PublishTest, UdpEcho) {
    Process p(lab().Nsrun(Publish({"-p", "5353:53/udp"}, {"python3", "-c", kUdpEcho, "53"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    Result inet = lab().Inet({"python3", "-c", kUdpAsk, "198.51.100.2", "5353", "ping"});
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    EXPECT_EQ(inet.out, "echo ping from 198.51.100.1\n");
    Result host = lab().Host({"python3", "-c", kUdpAsk, "127.0.0.1", "5353", "pong"});
    ASSERT_EQ(host.status, 0) << host.Describe();
    EXPECT_EQ(host.out, "echo pong from 203.0.113.1\n");
    // TCP on that port is not published.
    EXPECT_NE(lab().Inet(Curl("http://198.51.100.2:5353/")).status, 0);
    p.Signal(SIGTERM);
    EXPECT_FALSE(p.Wait(10s).timed_out);
    Result after = lab().Inet({"python3", "-c", kUdpAsk, "198.51.100.2", "5353", "again"});
    EXPECT_NE(after.status, 0) << after.Describe();
}

// A client that never stops sending from one port keeps its conntrack entry alive forever: tracked before the
// port was published it would stay un-NAT'd, tracked for the previous sandbox it would still go there.
TEST_F(PublishTest, AnOngoingUdpFlowReachesEachNewSandbox) {
    Process client(lab().InInet({"python3", "-c", kUdpFlow, "198.51.100.2", "5353"}));
    ASSERT_TRUE(client.WaitForOutput("ready\n", 15s)) << client.Wait(1s).Describe();
    ::usleep(500'000);  // its flow is tracked before anything is published
    for (const char* tag : {"one", "two"}) {
        SCOPED_TRACE(tag);
        Process p(lab().Nsrun(Publish({"-p", "5353:53/udp"}, {"python3", "-c", kUdpEcho, "53", tag})));
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        EXPECT_TRUE(client.WaitForOutput(std::string("echo tick from 198.51.100.1 by ") + tag + "\n", 5s))
            << client.out();
        p.Signal(SIGTERM);
        EXPECT_FALSE(p.Wait(10s).timed_out);
    }
}

TEST_F(PublishTest, SigkillOfNsrunTakesTheTableAndThePortWithIt) {
    Process p(lab().Nsrun(Publish({"-p", "8080:80", "-p", "5353:53/udp"}, HttpServer("killed"))));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    ASSERT_EQ(PublishTables().size(), 1u) << "control: the table exists";
    ASSERT_EQ(lab().Inet(Curl("http://198.51.100.2:8080/")).status, 0) << "control: the port works";

    p.Signal(SIGKILL);
    Result r = p.Wait(5s);
    EXPECT_EQ(r.status, 128 + SIGKILL) << r.Describe();
    // The kernel deleted the table while nsrun's process exited.
    EXPECT_THAT(PublishTables(), ::testing::IsEmpty()) << NftTables();
    EXPECT_NE(lab().Inet(Curl("http://198.51.100.2:8080/")).status, 0);
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));

    Process again(lab().Nsrun(Publish({"-p", "8080:80", "-p", "5353:53/udp"}, HttpServer("again"))));
    ASSERT_TRUE(again.WaitForOutput("ready\n", 15s)) << again.Wait(1s).Describe();
    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    EXPECT_EQ(inet.out, "hello from again to 198.51.100.1\n");
}

TEST_F(PublishTest, HostIpRestrictsThePortToThatAddress) {
    Process p(lab().Nsrun(Publish({"-p", "127.0.0.1:8080:80", "-p", "198.51.100.2:8081:80"}, HttpServer("ip"))));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    EXPECT_EQ(lab().Host(Curl("http://127.0.0.1:8080/")).out, "hello from ip to 203.0.113.1\n");
    EXPECT_NE(lab().Host(Curl("http://198.51.100.2:8080/")).status, 0) << "8080 is published on loopback only";
    EXPECT_NE(lab().Inet(Curl("http://198.51.100.2:8080/")).status, 0);
    EXPECT_EQ(lab().Inet(Curl("http://198.51.100.2:8081/")).out, "hello from ip to 198.51.100.1\n");
    EXPECT_EQ(lab().Host(Curl("http://198.51.100.2:8081/")).out, "hello from ip to 198.51.100.2\n");
    EXPECT_NE(lab().Host(Curl("http://127.0.0.1:8081/")).status, 0) << "8081 is published on 198.51.100.2 only";
    // The address of another host is refused, and nothing changes.
    const std::string ruleset = lab().NftRuleset();
    Result other = lab().RunNsrun(Publish({"-p", "198.51.100.80:8082:80"}, {"true"}));
    EXPECT_EQ(other.status, 125) << other.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(other.err));
    EXPECT_THAT(other.err, HasSubstr("198.51.100.80 is not an address of this host"));
    EXPECT_EQ(lab().NftRuleset(), ruleset);
}

TEST_F(PublishTest, WorksThroughAForwardPolicyDrop) {
    ASSERT_EQ(lab().Host({"iptables", "-P", "FORWARD", "DROP"}).status, 0);
    Process p(lab().Nsrun(Publish({"-p", "8080:80"}, HttpServer("drop"))));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    ASSERT_EQ(inet.status, 0) << inet.Describe();
    EXPECT_EQ(inet.out, "hello from drop to 198.51.100.1\n");
    // Only DNAT'd connections get in, written so that iptables (and Docker) still reads its chain.
    Result rules = lab().Host({"iptables", "-S", "FORWARD"});
    EXPECT_THAT(rules.out, HasSubstr("-A FORWARD -o nsr+ -m conntrack --ctstate DNAT -m comment --comment "
                                     "\"nsrun: let connections to published ports reach sandboxes (nsr*)\" -j ACCEPT"))
        << rules.Describe();
    EXPECT_THAT(rules.out + rules.err, Not(HasSubstr("incompatible")));
    EXPECT_THAT(rules.out, HasSubstr("-P FORWARD DROP"));
}

TEST_F(PublishTest, PythonHttpServerOnPort80WithoutCapabilities) {
    Process p(lab().Nsrun(Publish({"-p", "8080:80"}, {"python3", "-m", "http.server", "80"})));
    bool served = Eventually([&] { return lab().Inet(Curl("http://198.51.100.2:8080/")).status == 0; }, 15s);
    EXPECT_TRUE(served) << p.Wait(1s).Describe();
    Result inet = lab().Inet(Curl("http://198.51.100.2:8080/"));
    EXPECT_THAT(inet.out, HasSubstr("Directory listing")) << inet.Describe();
}

TEST_F(PublishTest, SandboxesReachPublishedPortsThroughTheHostsAddress) {
    Process server(lab().Nsrun(Publish({"-p", "8080:80"}, {"sh", "-c",
        "python3 -c '" + std::string(kHttpServer) + "' self 80 & "
        "i=0; until curl -s -o /dev/null http://127.0.0.1:80/ || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done; "
        "echo ready; curl -sS --max-time 5 http://198.51.100.2:8080/; echo ==; wait"})));
    ASSERT_TRUE(server.WaitForOutput("==\n", 15s)) << server.Wait(1s).Describe();
    // Its own port through the host (hairpin): masqueraded, or its answers would never leave it.
    EXPECT_THAT(server.out(), HasSubstr("hello from self to 203.0.113.1\n")) << server.out();
    Result other = lab().RunNsrun(Publish({}, Curl("http://198.51.100.2:8080/")));
    ASSERT_EQ(other.status, 0) << other.Describe();
    EXPECT_THAT(other.out, HasSubstr("hello from self to 203.0.113."));
}

// route_localnet on the host end would let a sandbox send to the host's loopback services (CVE-2020-8558); the
// table's guard must drop such packets. The sandbox crafts them with a packet socket, as an attacker would.
TEST_F(PublishTest, ASandboxCannotReachTheHostsLoopbackThroughTheRouteLocalnetItGets) {
    constexpr const char* kListener = R"PY(
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
print("ready", flush=True)
while True:
    print(s.recv(100).decode(), flush=True)
)PY";
    constexpr const char* kSpoofer = R"PY(
import fcntl, socket, struct, time
def checksum(b):
    s = sum(struct.unpack("!10H", b))
    s = (s >> 16) + (s & 0xffff)
    return (~((s >> 16) + s)) & 0xffff
def frame(mac, own_mac, src, dst, payload):
    udp = struct.pack("!HHHH", 40000, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac + own_mac + b"\x08\x00" + ip + udp
# The sandbox's /sys is the host's: ask the kernel for eth0's address (SIOCGIFHWADDR) instead.
own_mac = fcntl.ioctl(socket.socket(), 0x8927, struct.pack("256s", b"eth0"))[18:24]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("203.0.113.1", 9))
me = u.getsockname()[0]
u.send(b"arp")
mac = None
for _ in range(100):
    for line in open("/proc/net/arp").read().splitlines()[1:]:
        f = line.split()
        if f[0] == "203.0.113.1" and f[3] != "00:00:00:00:00:00":
            mac = bytes.fromhex(f[3].replace(":", ""))
    if mac: break
    time.sleep(0.02)
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
p.bind(("eth0", 0))
p.send(frame(mac, own_mac, me, "127.0.0.1", b"to-loopback"))
p.send(frame(mac, own_mac, "127.0.0.1", "203.0.113.1", b"from-loopback"))
p.send(frame(mac, own_mac, me, "203.0.113.1", b"control"))
print("sent", flush=True)
)PY";
    Process listener(lab().InHost({"python3", "-c", kListener}));
    ASSERT_TRUE(listener.WaitForOutput("ready\n", 15s)) << listener.Wait(1s).Describe();
    Result r = lab().RunNsrun(Publish({"-p", "8080:80", "--allow-host", "--cap-add=NET_RAW"},
                                      {"python3", "-c", kSpoofer}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    ASSERT_EQ(r.out, "sent\n");
    // The control frame, sent the same way to the host's own address, arrives: the crafting works.
    ASSERT_TRUE(listener.WaitForOutput("control\n", 5s)) << listener.out();
    EXPECT_THAT(listener.out(), Not(HasSubstr("loopback"))) << listener.out();
}

}  // namespace
}  // namespace nsrun::testing
