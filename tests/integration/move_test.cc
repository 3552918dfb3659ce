// --net=move:IFACE: a host interface given to the sandbox as it is and given back as it was.
//
// The "NIC" is a veth nic0 in the lab host whose peer (eth0, 203.0.113.1/24, a web server on port 8080) sits
// in an extra namespace NAME-mgmt. The lab host also has 203.0.113.0/24 on another interface (other0), so the
// sandbox's network on nic0 is the same address space as the host's other side. nic0's own configuration on
// the host (what must come back): MTU 1400, up, 198.51.100.250/32, 2001:db8:5::10/64, a route of its own in
// the main table, an IPv6 route via a gateway and a default route in table 100.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kNic = "nic0";
constexpr const char* kToken = "hello-from-the-management-network";

std::vector<std::string> Words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

class MoveTest : public LabTest {
protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        host_ = lab().name() + "-host";
        mgmt_ = lab().name() + "-mgmt";
        // lab.sh down removes the namespaces listed in "extras" (and kills what runs in them).
        std::ofstream(lab().dir() + "/extras", std::ios::app) << "mgmt\n";
        Must({"ip", "netns", "add", mgmt_});
        CreateNic("");
        ConfigureNicOnHost();
        Must({"ip", "-n", host_, "link", "add", "other0", "type", "veth", "peer", "name", "other1"});
        Must({"ip", "-n", host_, "addr", "add", "203.0.113.99/24", "dev", "other0"});
        Must({"ip", "-n", host_, "link", "set", "other0", "up"});
        Must({"ip", "-n", host_, "link", "set", "other1", "up"});
        site_ = lab().dir() + "/site";
        std::filesystem::create_directories(site_);
        std::ofstream(site_ + "/hello.txt") << kToken << "\n";
        server_.emplace(Argv{"ip", "netns", "exec", mgmt_, "python3", "-u", "-m", "http.server", "8080", "--bind",
                             "203.0.113.1", "--directory", site_});
        ASSERT_TRUE(server_->WaitForOutput("Serving HTTP", 10s)) << server_->Wait(1s).Describe();
        before_ = NicSnapshot();
        mac_ = LinkWord("link/ether");
        ASSERT_FALSE(mac_.empty());
    }

    void TearDown() override {
        server_.reset();
        LabTest::TearDown();
    }

    void Must(const Argv& argv) {
        Result r = RunCmd(argv, 15s);
        ASSERT_EQ(r.status, 0) << ::testing::PrintToString(argv) << ": " << r.Describe();
    }

    // nic0 in the lab host, its peer eth0 (203.0.113.1/24) in NAME-mgmt.
    void CreateNic(const std::string& mac) {
        Argv add{"ip", "-n", host_, "link", "add", kNic};
        if (!mac.empty()) add.insert(add.end(), {"address", mac});
        add.insert(add.end(), {"type", "veth", "peer", "name", "eth0", "netns", mgmt_});
        Must(add);
        Must({"ip", "-n", mgmt_, "addr", "add", "203.0.113.1/24", "dev", "eth0"});
        Must({"ip", "-n", mgmt_, "link", "set", "lo", "up"});
        Must({"ip", "-n", mgmt_, "link", "set", "eth0", "up"});
    }

    void ConfigureNicOnHost() {
        Must({"ip", "-n", host_, "link", "set", kNic, "mtu", "1400"});
        Must({"ip", "-n", host_, "addr", "add", "198.51.100.250/32", "dev", kNic});
        Must({"ip", "-n", host_, "addr", "add", "2001:db8:5::10/64", "dev", kNic, "nodad"});
        Must({"ip", "-n", host_, "link", "set", kNic, "up"});
        Must({"ip", "-n", host_, "route", "add", "198.51.100.240/28", "dev", kNic});
        Must({"ip", "-n", host_, "-6", "route", "add", "2001:db8:7::/64", "via", "2001:db8:5::1", "dev", kNic});
        Must({"ip", "-n", host_, "route", "add", "default", "via", "198.51.100.241", "dev", kNic, "table", "100",
              "onlink"});
    }

    bool NicExists() { return RunCmd({"ip", "-n", host_, "link", "show", "dev", kNic}, 10s).status == 0; }

    // The word after `key` in `ip -o link show nic0`.
    std::string LinkWord(const std::string& key) {
        auto words = Words(RunCmd({"ip", "-n", host_, "-o", "link", "show", "dev", kNic}, 10s).out);
        for (size_t i = 0; i + 1 < words.size(); ++i)
            if (words[i] == key) return words[i + 1];
        return "";
    }

    // What nsrun must give back: flags, MTU, MAC, global addresses and every route through nic0 except the
    // link-local and multicast ones the kernel makes by itself.
    std::string NicSnapshot() {
        std::string snapshot;
        Result link = RunCmd({"ip", "-n", host_, "-o", "link", "show", "dev", kNic}, 10s);
        auto words = Words(link.out);
        if (words.size() < 3) return "no " + std::string(kNic) + ": " + link.Describe();
        snapshot += "flags " + words[2] + " mtu " + LinkWord("mtu") + " mac " + LinkWord("link/ether") + "\n";
        for (auto& line : Lines(RunCmd({"ip", "-n", host_, "-o", "addr", "show", "dev", kNic, "scope", "global"}, 10s).out)) {
            auto w = Words(line);
            if (w.size() > 3) snapshot += "addr " + w[2] + " " + w[3] + "\n";
        }
        for (const char* family : {"-4", "-6"})
            for (auto& line : Lines(RunCmd({"ip", "-n", host_, family, "route", "show", "table", "all", "dev", kNic}, 10s).out))
                if (!Contains(line, "fe80") && !Contains(line, "ff00::") && !Contains(line, "multicast"))
                    snapshot += "route " + line + "\n";
        return snapshot;
    }

    // This lab's record of nic0 under /run/nsrun/moved (found by the MAC it names), or "".
    std::string RecordPath() {
        std::error_code ec;
        for (auto& dir : std::filesystem::directory_iterator("/run/nsrun/moved", ec)) {
            std::string path = (dir.path() / kNic).string();
            if (Contains(ReadFile(path), "\nmac " + mac_ + "\n")) return path;
        }
        return "";
    }

    Argv Move(const Argv& program) {
        Argv args{"--net=move:nic0", "--address=203.0.113.10/24", "--gateway=203.0.113.1", "--"};
        args.insert(args.end(), program.begin(), program.end());
        return args;
    }

    std::string host_, mgmt_, site_, mac_, before_;
    std::optional<Process> server_;
};

TEST_F(MoveTest, TheSandboxGetsTheInterfaceAloneAndTheHostGetsItBackAsItWas) {
    ASSERT_THAT(before_, HasSubstr("mtu 1400")) << before_;
    ASSERT_THAT(before_, HasSubstr("addr inet6 2001:db8:5::10/64")) << before_;
    ASSERT_THAT(before_, HasSubstr("default via 198.51.100.241 table 100")) << before_;
    // Control: from the host itself, 203.0.113.1 is on the other side (other0), not behind nic0.
    Result host_route = lab().Host({"ip", "route", "get", "203.0.113.1"});
    ASSERT_THAT(host_route.out, HasSubstr("dev other0")) << host_route.Describe();

    Result r = lab().RunNsrun(Move({"sh", "-c",
                                    "ip -o link | cut -d: -f2; echo ==; ip -4 -o addr show dev nic0; "
                                    "ip route; echo ==; curl -sS --max-time 10 http://203.0.113.1:8080/hello.txt"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto sections = Lines(r.out);
    std::vector<std::string> links;
    for (auto& line : sections) {
        if (line == "==") break;
        links.push_back(Words(line).at(0).substr(0, Words(line).at(0).find('@')));
    }
    EXPECT_THAT(links, ::testing::UnorderedElementsAre("lo", "nic0")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("inet 203.0.113.10/24 brd 203.0.113.255")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("default via 203.0.113.1 dev nic0")) << r.out;
    EXPECT_THAT(r.out, HasSubstr(kToken)) << r.out;
    EXPECT_THAT(r.err, Not(HasSubstr("nsrun"))) << "nothing to say";

    EXPECT_EQ(NicSnapshot(), before_);
    EXPECT_EQ(RecordPath(), "") << "the record goes once the interface is restored";
}

// The management network has its own resolver, which the host's resolv.conf does not name.
TEST_F(MoveTest, DnsNamesTheManagementNetworksResolverInsideOnly) {
    Process dns(Argv{"ip", "netns", "exec", mgmt_, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                     "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=203.0.113.1",
                     "--host-record=mgmt.example,203.0.113.1", "--user=root", "--group=root",
                     "--pid-file=" + lab().dir() + "/mgmt-dns.pid"});
    ASSERT_TRUE(Eventually(
        [&] { return Contains(RunCmd({"ip", "netns", "exec", mgmt_, "ss", "-Hlnu", "src", "203.0.113.1:53"}, 5s).out, ":53"); },
        5s));
    const std::string host_resolv_conf = lab().Host({"cat", "/etc/resolv.conf"}).out;
    Argv args{"--dns=203.0.113.1"};
    for (const auto& word : Move({"sh", "-c", "grep ^nameserver /etc/resolv.conf; "
                                              "curl -sS --max-time 10 http://mgmt.example:8080/hello.txt"}))
        args.push_back(word);
    Result r = lab().RunNsrun(args);
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(Lines(r.out).at(0), "nameserver 203.0.113.1") << r.out;
    EXPECT_THAT(r.out, HasSubstr(kToken)) << "mgmt.example resolved by the management network's own server";
    EXPECT_EQ(lab().Host({"cat", "/etc/resolv.conf"}).out, host_resolv_conf) << "the host's file is unchanged";
    EXPECT_EQ(NicSnapshot(), before_);
}

TEST_F(MoveTest, AnInterfaceTheProgramRenamedAndChangedComesBackAsItWas) {
    Result r = lab().RunNsrun({"--net=move:nic0", "--cap-add=net_admin", "--", "sh", "-c",
                               "ip link set nic0 down && ip link set nic0 name renamed && "
                               "ip link set renamed mtu 1300 address 02:00:5e:00:53:99 && ip -o link show renamed"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("mtu 1300")) << "control: the program did change it";
    EXPECT_EQ(NicSnapshot(), before_);
}

TEST_F(MoveTest, AProgramThatCannotStartStillGivesItBack) {
    Result r = lab().RunNsrun(Move({"/nonexistent/program"}));
    EXPECT_EQ(r.status, 127) << r.Describe();
    EXPECT_EQ(NicSnapshot(), before_);
}

TEST_F(MoveTest, BadInterfacesAre125AndChangeNothing) {
    const auto links_before = lab().HostLinks();
    const std::string uplink_before = lab().Host({"ip", "-o", "addr", "show", "dev", "uplink", "scope", "global"}).out;
    struct Case {
        Argv args;
        const char* why;
    } cases[] = {
        {{"--net=move:nic9", "--", "true"}, "no such interface"},
        {{"--net=move:uplink", "--", "true"}, "default route"},
        {{"--net=move:lo", "--", "true"}, "loopback"},
        {{"--net=move:nic0", "--address=203.0.113.10/24", "--gateway=198.51.100.1", "--", "true"}, "--gateway"},
        {{"--address=203.0.113.10/24", "--", "true"}, "--address"},
    };
    for (const auto& c : cases) {
        Result r = lab().RunNsrun(c.args);
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr(c.why));
    }
    EXPECT_EQ(lab().HostLinks(), links_before);
    EXPECT_EQ(lab().Host({"ip", "-o", "addr", "show", "dev", "uplink", "scope", "global"}).out, uplink_before);
    EXPECT_EQ(NicSnapshot(), before_);
    EXPECT_EQ(RecordPath(), "");
}

TEST_F(MoveTest, AnInterfaceInASandboxIsNotGivenToASecond) {
    Process first(lab().Nsrun(Move({"sh", "-c", "echo ready; exec sleep 30"})));
    ASSERT_TRUE(first.WaitForOutput("ready\n", 15s)) << first.Wait(1s).Describe();
    EXPECT_FALSE(NicExists());
    EXPECT_NE(RecordPath(), "") << "a record while the sandbox has it";
    Result second = lab().RunNsrun(Move({"true"}));
    EXPECT_EQ(second.status, 125) << second.Describe();
    EXPECT_THAT(second.err, HasSubstr("in use: nsrun pid"));
    first.Signal(SIGTERM);
    Result r = first.Wait(10s);
    EXPECT_EQ(r.status, 128 + SIGTERM) << r.Describe();
    EXPECT_EQ(NicSnapshot(), before_);
}

// issue 9: with --name, the sandbox's namespace outlives a SIGKILLed nsrun (its `ip netns` name holds it)
// with the interface inside and configured; the next nsrun list must take the interface back, and say so,
// before it lets go of the name (the kernel would destroy the veth, silently).
TEST_F(MoveTest, ANamedSandboxsInterfaceComesBackAfterASigkillAtTheNextList) {
    // A sandbox, and a --net-only service (whose keeper, not a pid namespace, ends what is left inside).
    for (const std::string mode : {"", "--net-only"}) {
        const std::string name = lab().name() + (mode.empty() ? "-mv" : "-mo");
        Argv args{"--name=" + name};
        if (!mode.empty()) args.push_back(mode);
        for (const auto& word : Move({"sh", "-c", "sleep 60 & echo ready; wait"})) args.push_back(word);
        Process p(lab().Nsrun(args));
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        p.Signal(SIGKILL);
        ASSERT_EQ(p.Wait(5s).status, 128 + SIGKILL);
        Result inside = RunCmd({"ip", "-n", name, "-o", "-4", "addr", "show", "dev", kNic}, 10s);
        EXPECT_THAT(inside.out, HasSubstr("203.0.113.10/24")) << mode << ": control: held by the name, configured: "
                                                             << inside.Describe();
        EXPECT_FALSE(NicExists());

        Result list = lab().RunNsrun({"list"});
        EXPECT_EQ(list.status, 0) << list.Describe();
        EXPECT_EQ(Lines(list.err).size(), 1u) << list.err;
        EXPECT_THAT(list.err, HasSubstr("nsrun: gave nic0 back to the host with its configuration")) << list.err;
        EXPECT_EQ(NicSnapshot(), before_) << mode;
        EXPECT_EQ(RecordPath(), "");
        EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name)) << "list still removes the dead sandbox's name";
        RunCmd({"ip", "netns", "del", name}, 10s);
    }
}

// The dead sandbox's name is what keeps its namespace, and the interface inside, alive: an nsrun of another host
// network namespace (whose `nsrun list` cleans up dead records too) must leave it to this host's next nsrun.
TEST_F(MoveTest, AListInAnotherHostNamespaceLeavesAKilledSandboxsInterfaceToItsHost) {
    const std::string name = lab().name() + "-mx";
    Argv args{"--name=" + name};
    for (const auto& word : Move({"sh", "-c", "sleep 60 & echo ready; wait"})) args.push_back(word);
    Process p(lab().Nsrun(args));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    p.Signal(SIGKILL);
    ASSERT_EQ(p.Wait(5s).status, 128 + SIGKILL);

    Result elsewhere = RunCmd({"unshare", "--net", "--", NSRUN_BIN, "list"}, 10s);
    EXPECT_EQ(elsewhere.status, 0) << elsewhere.Describe();
    Result inside = RunCmd({"ip", "-n", name, "-o", "-4", "addr", "show", "dev", kNic}, 10s);
    EXPECT_THAT(inside.out, HasSubstr("203.0.113.10/24")) << "still held by the name: " << inside.Describe();

    Result list = lab().RunNsrun({"list"});
    EXPECT_THAT(list.err, HasSubstr("nsrun: gave nic0 back to the host with its configuration")) << list.err;
    EXPECT_EQ(NicSnapshot(), before_);
    EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name)) << "this host's list removes the name";
    RunCmd({"ip", "netns", "del", name}, 10s);
}

// When the interface cannot be taken back (the program renamed it inside), the loss is said in one line.
TEST_F(MoveTest, ANamedSandboxsInterfaceThatCannotComeBackIsSaidLost) {
    const std::string name = lab().name() + "-ml";
    Process p(lab().Nsrun({"--name=" + name, "--net=move:nic0", "--cap-add=net_admin", "--", "sh", "-c",
                           "ip link set nic0 down && ip link set nic0 name renamed && echo ready && exec sleep 60"}));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    p.Signal(SIGKILL);
    ASSERT_EQ(p.Wait(5s).status, 128 + SIGKILL);
    Result list = lab().RunNsrun({"list"});
    EXPECT_EQ(list.status, 0) << list.Describe();
    EXPECT_EQ(Lines(list.err).size(), 1u) << list.err;
    EXPECT_THAT(list.err, HasSubstr("nsrun: lost nic0 (left by nsrun pid ")) << list.err;
    EXPECT_EQ(RecordPath(), "");
    RunCmd({"ip", "netns", "del", name}, 10s);
}

// SIGKILL of nsrun: the sandbox's namespace goes at once, and with it a veth (and its peer: the kernel
// destroys virtual interfaces with their namespace; only physical ones come back, to the initial namespace).
// No interface kind that survives can be made here, so the recovery path is tested with a veth recreated
// under the same name and MAC, as a NIC that came back would be.
class MoveKillTest : public MoveTest {
protected:
    void KillWhileMoved() {
        Process p(lab().Nsrun(Move({"sh", "-c", "echo ready; exec sleep 60"})));
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        record_ = RecordPath();
        ASSERT_NE(record_, "");
        std::error_code ec;
        ASSERT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(p.pid()) + "/exe", ec),
                  std::filesystem::canonical(NSRUN_BIN))
            << "the process to kill must be nsrun itself";
        p.Signal(SIGKILL);
        Result r = p.Wait(5s);
        ASSERT_EQ(r.status, 128 + SIGKILL) << r.Describe();
        // The veth died with the sandbox's namespace, its peer with it.
        ASSERT_TRUE(Eventually([&] { return RunCmd({"ip", "-n", mgmt_, "link", "show", "eth0"}, 5s).status != 0; }, 5s))
            << "the peer of the killed sandbox's veth still exists";
        EXPECT_FALSE(NicExists());
        EXPECT_TRUE(std::filesystem::exists(record_)) << "the record outlives a SIGKILLed nsrun";
    }
    std::string record_;
};

TEST_F(MoveKillTest, TheNextNsrunRestoresTheInterfaceWhenItComesBack) {
    KillWhileMoved();
    if (HasFatalFailure()) return;
    CreateNic(mac_);  // back, as a physical NIC would come: same name and MAC, no configuration
    ASSERT_NE(NicSnapshot(), before_) << "control: it came back stripped";
    Result r = lab().RunNsrun({"--", "true"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("restored the configuration of nic0")) << r.Describe();
    EXPECT_EQ(NicSnapshot(), before_);
    EXPECT_FALSE(std::filesystem::exists(record_));
    // And it works for the next sandbox again.
    Result again = lab().RunNsrun(Move({"curl", "-sS", "--max-time", "10", "http://203.0.113.1:8080/hello.txt"}));
    EXPECT_EQ(again.status, 0) << again.Describe();
    EXPECT_THAT(again.out, HasSubstr(kToken));
    EXPECT_EQ(NicSnapshot(), before_);
}

// A record is acted on only if nsrun could have written it: root's, 0600 (issue 9: a planted record had the
// next root nsrun configure a host interface).
TEST_F(MoveKillTest, ARecordNsrunCannotHaveWrittenIsIgnored) {
    KillWhileMoved();
    if (HasFatalFailure()) return;
    CreateNic(mac_);
    const std::string stripped = NicSnapshot();
    ASSERT_EQ(::chown(record_.c_str(), 65534, 65534), 0);
    Result r = lab().RunNsrun({"--", "true"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(NicSnapshot(), stripped) << "another user's record changed a host interface";
    EXPECT_TRUE(std::filesystem::exists(record_));
    ASSERT_EQ(::chown(record_.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(record_.c_str(), 0644), 0);
    lab().RunNsrun({"--", "true"});
    EXPECT_EQ(NicSnapshot(), stripped) << "a record others could have replaced changed a host interface";
    ASSERT_EQ(::chmod(record_.c_str(), 0600), 0);
    Result control = lab().RunNsrun({"--", "true"});
    EXPECT_THAT(control.err, HasSubstr("restored the configuration of nic0")) << control.Describe();
    EXPECT_EQ(NicSnapshot(), before_);
}

TEST_F(MoveKillTest, TheRecordOfADestroyedVethIsDropped) {
    KillWhileMoved();
    if (HasFatalFailure()) return;
    Result r = lab().RunNsrun({"--", "true"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.err, Not(HasSubstr("nsrun"))) << "nothing to say";
    EXPECT_FALSE(std::filesystem::exists(record_));
}

TEST_F(MoveKillTest, AnotherDeviceUnderTheNameIsLeftAlone) {
    KillWhileMoved();
    if (HasFatalFailure()) return;
    CreateNic("02:00:5e:00:53:42");
    const std::string other = NicSnapshot();
    Result r = lab().RunNsrun({"--", "true"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(NicSnapshot(), other);
    EXPECT_THAT(other, Not(HasSubstr("198.51.100.250")));
    EXPECT_FALSE(std::filesystem::exists(record_));
}

}  // namespace
}  // namespace nsrun::testing
