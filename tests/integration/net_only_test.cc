// --net-only: what `ip netns exec` gives, and nothing left behind. The program is the caller (root here, every
// capability of nsrun's, no seccomp, no no_new_privs), in the host's pid, IPC and UTS namespaces, seeing the
// host's files; only the network (and the /sys and /etc/resolv.conf that describe it) is the sandbox's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Link(const std::string& path) {
    std::error_code ec;
    return std::filesystem::read_symlink(path, ec).string();
}

class NetOnlyTest : public LabTest {
protected:
    Argv NetOnly(const Argv& program, const Argv& flags = {}) {
        Argv args{"--net-only"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back("--");
        args.insert(args.end(), program.begin(), program.end());
        return args;
    }
};

TEST_F(NetOnlyTest, TheProgramIsTheCallerInTheHostsNamespacesWithOnlyItsOwnNetwork) {
    lab().TurnOnForwarding();
    const std::string host_caps = lab().Host({"grep", "^CapEff", "/proc/self/status"}).out;
    const std::string host_resolv_conf = lab().Host({"cat", "/etc/resolv.conf"}).out;
    ASSERT_THAT(host_caps, HasSubstr("CapEff"));
    const std::string marker = lab().dir() + "/host-file";
    std::filesystem::create_directories(lab().dir() + "/m");
    {
        std::ofstream(marker) << "the host's own\n";
    }
    Result r = lab().RunNsrun(NetOnly(
        {"sh", "-c",
         "id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
         "readlink /proc/self/ns/pid /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/net; echo ==; "
         "ls /sys/class/net; echo ==; grep ^nameserver /etc/resolv.conf; cat " + marker +
             "; mount -t tmpfs sandbox-only " + lab().dir() + "/m && echo mounted; ip -o -4 addr show dev eth0"},
        {"--net=nat", kSubnetFlag, "--dns=198.51.100.53"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto lines = Lines(r.out);
    ASSERT_GE(lines.size(), 9u) << r.out;
    EXPECT_EQ(lines[0], "0");
    EXPECT_EQ(lines[1] + "\n", host_caps) << "every capability nsrun has";
    EXPECT_EQ(lines[2], "NoNewPrivs:\t0") << "sshd must be able to setuid and exec";
    EXPECT_EQ(lines[3], "Seccomp:\t0");
    EXPECT_EQ(lines[4], Link("/proc/self/ns/pid")) << "the host's processes";
    EXPECT_EQ(lines[5], Link("/proc/self/ns/ipc"));
    EXPECT_EQ(lines[6], Link("/proc/self/ns/uts"));
    EXPECT_NE(lines[7] + "\n", lab().Host({"readlink", "/proc/self/ns/net"}).out) << "its own network";
    EXPECT_THAT(r.out, HasSubstr("==\neth0\nlo\n==\n")) << "a /sys of the sandbox's network namespace";
    EXPECT_THAT(r.out, HasSubstr("nameserver 198.51.100.53\n"));
    EXPECT_THAT(r.out, HasSubstr("the host's own\n"));
    EXPECT_THAT(r.out, HasSubstr("mounted\n"));
    EXPECT_THAT(r.out, HasSubstr("inet 203.0.113.")) << "--net=nat as for any sandbox";
    EXPECT_EQ(r.err, "");
    // What the sandbox mounted stays in its mount namespace; the host keeps its /sys and resolv.conf.
    EXPECT_EQ(RunCmd({"findmnt", "-n", lab().dir() + "/m"}, 10s).status, 1);
    EXPECT_THAT(lab().Host({"ls", "/sys/class/net"}).out, HasSubstr("uplink"));
    EXPECT_EQ(lab().Host({"cat", "/etc/resolv.conf"}).out, host_resolv_conf);
}

TEST_F(NetOnlyTest, StatusesAndSignalsAreAsForAnySandbox) {
    EXPECT_EQ(lab().RunNsrun(NetOnly({"sh", "-c", "exit 3"})).status, 3);
    EXPECT_EQ(lab().RunNsrun(NetOnly({"sh", "-c", "kill -KILL $$"})).status, 128 + SIGKILL);
    EXPECT_EQ(lab().RunNsrun(NetOnly({"no-such-program-" + UniqueToken()})).status, 127);
    Process p(lab().Nsrun(NetOnly({"sh", "-c", "trap 'echo got-term; exit 9' TERM; echo ready; sleep 60 & wait"})));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    p.Signal(SIGTERM);
    Result r = p.Wait(10s);
    EXPECT_EQ(r.status, 9) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("got-term"));
}

// No pid namespace ends them, so nsrun's keeper does: what the program left (daemonized, in a session of
// its own) and what joined the namespace are killed when the program ends, and when nsrun is SIGKILLed.
TEST_F(NetOnlyTest, NothingIsLeftInTheNamespaceWhenTheProgramEndsOrNsrunIsKilled) {
    const std::string left = "1000." + UniqueToken();
    Result r = lab().RunNsrun(NetOnly({"sh", "-c", "setsid sleep " + left + " </dev/null >/dev/null 2>&1 & exit 4"}));
    EXPECT_EQ(r.status, 4) << r.Describe();
    EXPECT_THAT(ProcessesMentioning(left), ElementsAre()) << "killed before nsrun returned";

    // nsrun alone, and nsrun's whole process group (the program's included: a terminal's, a harness's kill).
    for (bool whole_group : {false, true}) {
        const std::string name = lab().name() + (whole_group ? "-ng" : "-no");
        const std::string daemon = "1001." + UniqueToken(), program = "1002." + UniqueToken(),
                          joined = "1003." + UniqueToken();
        Process p(lab().Nsrun(NetOnly({"sh", "-c", "setsid sleep " + daemon + " </dev/null >/dev/null 2>&1 & "
                                                    "echo ready; exec sleep " + program},
                                      {"--name=" + name, "--net=nat", kSubnetFlag})));
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        Process visitor({"ip", "netns", "exec", name, "sleep", joined});
        ASSERT_TRUE(Eventually([&] { return !ProcessesMentioning(joined).empty(); }, 5s));
        ASSERT_TRUE(Eventually([&] { return !ProcessesMentioning(daemon).empty(); }, 5s));
        ::kill(whole_group ? -p.pid() : p.pid(), SIGKILL);
        EXPECT_EQ(p.Wait(5s).status, 128 + SIGKILL);
        for (const auto& mark : {daemon, program, joined})
            EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(mark).empty(); }, 5s)) << mark << " " << whole_group;
        EXPECT_EQ(visitor.Wait(5s).status, 128 + SIGKILL);
        // Only the name holds the namespace now; the next list lets go of it.
        Result list = lab().RunNsrun({"list"});
        EXPECT_EQ(list.status, 0);
        EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name));
        EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s)) << "the namespace went, with its veth";
        RunCmd({"ip", "netns", "del", name}, 10s);
    }
}

TEST_F(NetOnlyTest, OptionsThatIsolateMoreAreRefusedWithoutChangingAnything) {
    const auto links = lab().HostLinks();
    for (const Argv& more : {Argv{"--seccomp=default"}, Argv{"--cap-add=net_admin"}, Argv{"--user=nobody"},
                             Argv{"--read-only"}, Argv{"--bind=/tmp"}, Argv{"--hostname=x"}, Argv{"--net=host"}}) {
        Argv flags = more[0].starts_with("--net=") ? Argv{} : Argv{"--net=nat", kSubnetFlag};
        flags.insert(flags.end(), more.begin(), more.end());
        Result r = lab().RunNsrun(NetOnly({"true"}, flags));
        EXPECT_EQ(r.status, 125) << more[0] << ": " << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.err;
        EXPECT_THAT(r.err, HasSubstr("--net-only")) << r.err;
    }
    EXPECT_EQ(lab().HostLinks(), links);
}

}  // namespace
}  // namespace nsrun::testing
