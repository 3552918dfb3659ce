// Named sandboxes: --name makes the sandbox's network namespace an `ip netns` name, `nsrun exec` runs another
// program inside a running sandbox, `nsrun list` shows them; a SIGKILLed nsrun's leftovers are cleaned up by
// the next nsrun that finds them.
//
// /run/netns and /run/nsrun are the machine's: every name here contains the test's lab name, and TearDown
// removes whatever a failed test left.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/proc_path.h"
#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kZero = "0000000000000000";

bool Exists(const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string RecordPath(const std::string& name) { return "/run/nsrun/sandboxes/" + name; }
std::string NetnsPath(const std::string& name) { return "/run/netns/" + name; }

// The line of `table` whose first column is `name`, or "".
std::string RowOf(const std::string& table, const std::string& name) {
    for (const auto& line : Lines(table))
        if (line.starts_with(name + " ")) return line;
    return "";
}

std::vector<std::string> Columns(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

bool IpNetnsListHas(const std::string& name) {
    Result r = RunCmd({"ip", "netns", "list"}, 10s);
    for (const auto& line : Lines(r.out))
        if (line == name || line.starts_with(name + " ")) return true;
    return false;
}

// "eth0@if7  UP  203.0.113.9 peer 203.0.113.1/32 ..." -> "203.0.113.9"
std::string Eth0Ipv4(const std::string& brief) {
    for (const auto& line : Lines(brief)) {
        auto columns = Columns(line);
        if (columns.size() >= 3 && columns[0].starts_with("eth0")) return columns[2].substr(0, columns[2].find('/'));
    }
    return "";
}

class NamesTest : public LabTest {
protected:
    void TearDown() override {
        // Only when needed: a list also cleans up after other tests' crashed sandboxes, which the crash tests of
        // a parallel run want to see first.
        bool leftovers = false;
        for (const auto& name : names_) leftovers |= Exists(NetnsPath(name)) || Exists(RecordPath(name));
        if (leftovers) RunCmd({NSRUN_BIN, "list"}, 30s);  // removes what dead owners left
        for (const auto& name : names_) {
            if (Exists(NetnsPath(name))) {
                ADD_FAILURE() << NetnsPath(name) << " was left behind";
                RunCmd({"ip", "netns", "del", name}, 10s);
            }
            if (Exists(RecordPath(name))) {
                ADD_FAILURE() << RecordPath(name) << " was left behind";
                std::filesystem::remove(RecordPath(name));
            }
        }
        LabTest::TearDown();
    }

    // A name no other test uses.
    std::string Name(const std::string& tag) {
        names_.push_back(lab().name() + "-" + tag);
        return names_.back();
    }

    // nsrun in the lab host's network namespace but in the machine's mount namespace, as from a login shell,
    // so that its /run/netns mount reaches every `ip netns exec`. (lab().Nsrun runs it under `ip netns exec`,
    // in a slave mount namespace of its own.)
    Argv MachineNsrun(const Argv& args) {
        Argv argv{"nsenter", "--net=/run/netns/" + lab().name() + "-host", "--", NSRUN_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    // A running NAT sandbox NAME whose program prints "ready" and waits; `extra` goes before "--".
    Process StartNamed(const std::string& name, const Argv& extra = {}, const std::string& marker = "sleep 1000") {
        Argv args{"--net=nat", kSubnetFlag, "--name=" + name};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--", "sh", "-c", marker + " & echo ready; wait"});
        return Process(MachineNsrun(args));
    }

private:
    std::vector<std::string> names_;
};

TEST_F(NamesTest, IpNetnsKnowsTheSandboxWhileItRuns) {
    const std::string name = Name("web");
    ASSERT_FALSE(IpNetnsListHas(name));
    Process p = StartNamed(name);
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    EXPECT_TRUE(IpNetnsListHas(name));
    Result addr = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
    ASSERT_EQ(addr.status, 0) << addr.Describe();
    const std::string address = Eth0Ipv4(addr.out);
    EXPECT_TRUE(InPrefix(address, kPool)) << addr.Describe();
    // The sandbox's own namespace: its eth0 is the peer of the lab host's one nsr link ("nsrN@if<eth0's index>").
    ASSERT_EQ(lab().NsrLinks().size(), 1u);
    Result peer = lab().Host({"ip", "-o", "link", "show", "dev", lab().NsrLinks()[0]});
    Result link = RunCmd({"ip", "netns", "exec", name, "ip", "-o", "link", "show", "dev", "eth0"}, 10s);
    const std::string eth0_index = link.out.substr(0, link.out.find(':'));
    ASSERT_FALSE(eth0_index.empty()) << link.Describe();
    EXPECT_THAT(peer.out, HasSubstr("@if" + eth0_index + ":")) << peer.Describe() << link.Describe();

    p.Signal(SIGTERM);
    Result r = p.Wait(10s);
    EXPECT_EQ(r.status, 128 + SIGTERM) << r.Describe();
    EXPECT_FALSE(IpNetnsListHas(name));
    EXPECT_FALSE(Exists(NetnsPath(name)));
    EXPECT_FALSE(Exists(RecordPath(name)));
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s))
        << "the namespace outlived the sandbox: " << ::testing::PrintToString(lab().NsrLinks());
}

TEST_F(NamesTest, ASecondSandboxOfTheSameNameIsRefusedAndChangesNothing) {
    const std::string name = Name("dup");
    Process p = StartNamed(name);
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    const std::string record_before = ReadFile(RecordPath(name));
    ASSERT_THAT(record_before, HasSubstr("\nend\n"));

    // From the same mount namespace and from a private one (the record is what counts, not the mount).
    for (const Argv& second : {MachineNsrun({"--net=nat", kSubnetFlag, "--name=" + name, "--", "true"}),
                               lab().Nsrun({"--net=nat", kSubnetFlag, "--name=" + name, "--", "true"})}) {
        Result r = RunCmd(second, 30s);
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr("--name " + name + ": a sandbox of that name is running (nsrun pid " +
                                     std::to_string(p.pid()) + ")"));
    }
    EXPECT_EQ(lab().NsrLinks().size(), 1u) << "the refused launch made a veth";
    EXPECT_EQ(ReadFile(RecordPath(name)), record_before);
    Result still = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
    EXPECT_EQ(still.status, 0) << still.Describe();
    EXPECT_FALSE(p.exited());
}

TEST_F(NamesTest, AnIpNetnsOfTheSameNameIsLeftAlone) {
    const std::string name = Name("ipns");
    ASSERT_EQ(RunCmd({"ip", "netns", "add", name}, 10s).status, 0);
    struct stat before{};
    ASSERT_EQ(::stat(NetnsPath(name).c_str(), &before), 0);
    Result r = RunCmd(MachineNsrun({"--net=nat", kSubnetFlag, "--name=" + name, "--", "true"}), 30s);
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
    EXPECT_THAT(r.err, HasSubstr("/run/netns/" + name + " exists"));
    struct stat after{};
    EXPECT_EQ(::stat(NetnsPath(name).c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << "the ip netns namespace was replaced";
    EXPECT_FALSE(Exists(RecordPath(name)));
    EXPECT_TRUE(lab().NsrLinks().empty());
    RunCmd({"ip", "netns", "del", name}, 10s);
}

TEST_F(NamesTest, ExecJoinsTheSandboxWithNothingOfNsrunsPrivileges) {
    const std::string name = Name("exec");
    const std::string marker = "sleep 1000." + UniqueToken();
    Process p = StartNamed(name, {"--tmpfs=/mnt"}, marker);
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    Result status = lab().RunNsrun({"exec", name, "--", "cat", "/proc/self/status"});
    ASSERT_EQ(status.status, 0) << status.Describe();
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_THAT(status.out, HasSubstr(std::string(set) + ":\t" + kZero)) << set;
    EXPECT_THAT(status.out, HasSubstr("NoNewPrivs:\t1"));
    EXPECT_THAT(status.out, HasSubstr("Seccomp:\t2"));

    // The pid namespace: the sandbox's processes and nothing of the host's.
    Result ps = lab().RunNsrun({"exec", name, "--", "ps", "-eo", "pid=,args="});
    ASSERT_EQ(ps.status, 0) << ps.Describe();
    EXPECT_THAT(ps.out, HasSubstr(marker));
    std::vector<int> pids;
    for (const auto& line : Lines(ps.out)) pids.push_back(std::atoi(Columns(line).at(0).c_str()));
    EXPECT_THAT(pids, ::testing::Contains(1));
    EXPECT_LE(pids.size(), 6u) << ps.out;
    EXPECT_THAT(ps.out, Not(HasSubstr("nsenter")));

    // The network namespace: the sandbox's eth0.
    Result inside = lab().RunNsrun({"exec", name, "--", "ip", "-brief", "addr", "show", "dev", "eth0"});
    Result named = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
    ASSERT_EQ(inside.status, 0) << inside.Describe();
    EXPECT_TRUE(InPrefix(Eth0Ipv4(inside.out), kPool)) << inside.Describe();
    EXPECT_EQ(Eth0Ipv4(inside.out), Eth0Ipv4(named.out));

    // The mount namespace: the sandbox's own tmpfs, which the host does not have.
    Result mnt = lab().RunNsrun({"exec", name, "--", "stat", "-f", "-c", "%T", "/mnt"});
    EXPECT_EQ(mnt.out, "tmpfs\n") << mnt.Describe();

    // The program's own image and no descriptor of its caller's.
    Result fds = lab().Host({"sh", "-c", "exec 7</etc/hostname; exec \"$0\" exec \"$1\" -- sh -c "
                                         "'readlink /proc/self/exe; ls /proc/self/fd'",
                             NSRUN_BIN, name});
    ASSERT_EQ(fds.status, 0) << fds.Describe();
    auto lines = Lines(fds.out);
    ASSERT_FALSE(lines.empty());
    EXPECT_THAT(lines[0], Not(HasSubstr("nsrun")));
    EXPECT_THAT(std::vector<std::string>(lines.begin() + 1, lines.end()), Not(::testing::Contains("7"))) << fds.out;
    EXPECT_FALSE(p.exited());
}

// The caller's environment is the admin's shell: nothing of it may reach a process the sandbox can inspect.
TEST_F(NamesTest, ExecGivesTheSandboxsEnvironmentNotTheCallers) {
    const std::string name = Name("env");
    Process p = StartNamed(name, {"--setenv=LAUNCH_VAR=from-launch"});
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    const std::string secret = "ADMIN_TOKEN=secret-" + UniqueToken();
    Process joined({"env", secret, NSRUN_BIN, "exec", "--setenv=PASSED=yes", name, "--", "sh", "-c",
                    "echo ready; exec sleep 1000"});
    ASSERT_TRUE(joined.WaitForOutput("ready\n", 15s)) << joined.Wait(1s).Describe();
    // Every process of the sandbox, the joined one and the reader itself included.
    Result environ = RunCmd({"env", secret, NSRUN_BIN, "exec", name, "--", "sh", "-c",
                             "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done"},
                            30s);
    ASSERT_EQ(environ.status, 0) << environ.Describe();
    EXPECT_THAT(environ.out, Not(HasSubstr(secret))) << environ.out;
    EXPECT_THAT(environ.out, HasSubstr("PASSED=yes\n")) << "control: the joined program's environment was read";
    EXPECT_THAT(environ.out, HasSubstr("LAUNCH_VAR=from-launch\n")) << "the sandbox's launch environment";
    // The working directory is the sandbox's / or --chdir, the user the sandbox's or --user.
    Result where = RunCmd({NSRUN_BIN, "exec", name, "--", "sh", "-c", "pwd; id -u"}, 30s);
    EXPECT_EQ(where.out, "/\n0\n") << where.Describe();
    Result chosen = RunCmd({NSRUN_BIN, "exec", "--chdir=/tmp", "--user=nobody", name, "--", "sh", "-c", "pwd; id -u"}, 30s);
    EXPECT_EQ(chosen.out, "/tmp\n65534\n") << chosen.Describe();
    joined.Signal(SIGTERM);
    joined.Wait(10s);
}

// A named sandbox's record holds its launch environment: no other sandbox may read it (a program run by root
// is uid 0, the records' owner), nor plant one.
TEST_F(NamesTest, NoSandboxSeesNsrunsRecords) {
    const std::string name = Name("rec");
    const std::string secret = "LAUNCH_SECRET=" + UniqueToken();
    Process p = StartNamed(name, {"--setenv=" + secret});
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    ASSERT_THAT(ReadFile(RecordPath(name)), HasSubstr(secret)) << "control: the record holds the environment";
    for (const Argv& flags : {Argv{}, Argv{"--read-only"}}) {
        Argv args = flags;
        args.insert(args.end(), {"--", "sh", "-c",
                                 "ls -A /run/nsrun; cat /run/nsrun/sandboxes/* 2>/dev/null; "
                                 "touch /run/nsrun/planted 2>/dev/null && echo planted || echo refused"});
        Result r = lab().RunNsrun(args);
        EXPECT_EQ(r.status, 0) << r.Describe();
        EXPECT_EQ(r.out, "refused\n") << r.Describe();
        Result joined = lab().RunNsrun({"exec", name, "--", "ls", "-A", "/run/nsrun"});
        EXPECT_EQ(joined.out, "") << joined.Describe();
    }
}

TEST_F(NamesTest, ExecPassesOnlyTheDescriptorsItIsTold) {
    const std::string name = Name("fds");
    Process p = StartNamed(name);
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    Result fds = RunCmd({"sh", "-c", "exec 7</etc/hostname 8</etc/hostname; exec \"$0\" exec --keep-fd=8 \"$1\" -- "
                                     "ls /proc/self/fd",
                         NSRUN_BIN, name},
                        30s);
    ASSERT_EQ(fds.status, 0) << fds.Describe();
    auto listed = Lines(fds.out);
    EXPECT_THAT(listed, ::testing::Contains("8")) << fds.out;
    EXPECT_THAT(listed, Not(::testing::Contains("7"))) << fds.out;
    Result help = RunCmd({NSRUN_BIN, "exec", "--help"}, 10s);
    EXPECT_EQ(help.status, 0) << help.Describe();
    EXPECT_THAT(help.out, HasSubstr("--keep-fd"));
    Result list_help = RunCmd({NSRUN_BIN, "list", "--help"}, 10s);
    EXPECT_EQ(list_help.status, 0) << list_help.Describe();
    EXPECT_THAT(list_help.out, HasSubstr("Usage: nsrun list"));
}

TEST_F(NamesTest, ExecStatusesAreTheProgramsOwn) {
    const std::string name = Name("st");
    // Started under `ip netns exec` this time: exec and list go by the record, whatever the mount namespace.
    Process p(lab().Nsrun({"--net=nat", kSubnetFlag, "--name=" + name, "--", "sh", "-c", "sleep 1000 & echo ready; wait"}));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    Result three = lab().RunNsrun({"exec", name, "--", "sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(three.status, 3) << three.Describe();
    EXPECT_EQ(three.out, "out\n");
    EXPECT_EQ(three.err, "err\n");
    Result no_dash = lab().RunNsrun({"exec", name, "true"});
    EXPECT_EQ(no_dash.status, 0) << no_dash.Describe();
    Result missing = lab().RunNsrun({"exec", name, "--", "no-such-program-" + UniqueToken()});
    EXPECT_EQ(missing.status, 127) << missing.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(missing.err));
    Result not_executable = lab().RunNsrun({"exec", name, "--", "/etc/hostname"});
    EXPECT_EQ(not_executable.status, 126) << not_executable.Describe();

    const std::string unknown = lab().name() + "-nobody";
    Result none = lab().RunNsrun({"exec", unknown, "--", "true"});
    EXPECT_EQ(none.status, 125) << none.Describe();
    EXPECT_EQ(none.err, "nsrun: exec " + unknown + ": no running sandbox named " + unknown + "\n");

    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(10s).status, 128 + SIGTERM);
    EXPECT_FALSE(Exists(NetnsPath(name)));
    EXPECT_FALSE(Exists(RecordPath(name)));
    Result after = lab().RunNsrun({"exec", name, "--", "true"});
    EXPECT_EQ(after.status, 125) << after.Describe();
}

TEST_F(NamesTest, ExecForwardsSignalsAndEndsWithTheSandbox) {
    const std::string name = Name("sig");
    Process p = StartNamed(name);
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();

    Process joined(lab().Nsrun({"exec", name, "--", "sh", "-c",
                                "trap 'echo got-TERM; kill $! 2>/dev/null; exit 0' TERM; sleep 30 & echo ready; wait"}));
    ASSERT_TRUE(joined.WaitForOutput("ready\n", 15s)) << joined.Wait(1s).Describe();
    joined.Signal(SIGTERM);
    Result r = joined.Wait(10s);
    EXPECT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "ready\ngot-TERM\n");

    // SIGKILL of `nsrun exec` takes the joined program with it (parent-death signal).
    const std::string marker = "sleep 1000." + UniqueToken();
    Process killed(lab().Nsrun({"exec", name, "--", "sh", "-c", "echo ready; exec " + marker}));
    ASSERT_TRUE(killed.WaitForOutput("ready\n", 15s)) << killed.Wait(1s).Describe();
    ASSERT_TRUE(Eventually([&] { return RunCmd({"pgrep", "-fx", marker}, 5s).status == 0; }, 5s));
    killed.Signal(SIGKILL);
    EXPECT_EQ(killed.Wait(5s).status, 128 + SIGKILL);
    EXPECT_TRUE(Eventually([&] { return RunCmd({"pgrep", "-fx", marker}, 5s).status == 1; }, 5s))
        << "the joined program outlived nsrun exec";

    // A joined program lives in the sandbox's pid namespace: it ends with the sandbox.
    Process orphan(lab().Nsrun({"exec", name, "--", "sh", "-c", "echo ready; sleep 1000"}));
    ASSERT_TRUE(orphan.WaitForOutput("ready\n", 15s)) << orphan.Wait(1s).Describe();
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(10s).status, 128 + SIGTERM);
    Result ended = orphan.Wait(10s);
    EXPECT_FALSE(ended.timed_out) << ended.Describe();
    EXPECT_EQ(ended.status, 128 + SIGKILL) << ended.Describe();
}

TEST_F(NamesTest, ListShowsNameNsrunPidAddressPortsAndCommand) {
    const std::string name = Name("ls");
    Process p = StartNamed(name, {"-p", "18080:80"});
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    Result addr = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
    const std::string address = Eth0Ipv4(addr.out);
    ASSERT_TRUE(InPrefix(address, kPool)) << addr.Describe();

    Result table = lab().RunNsrun({"list"});
    ASSERT_EQ(table.status, 0) << table.Describe();
    EXPECT_TRUE(Lines(table.out).at(0).starts_with("NAME ")) << table.out;
    auto row = Columns(RowOf(table.out, name));
    ASSERT_GE(row.size(), 5u) << table.out;
    EXPECT_EQ(row[1], std::to_string(p.pid()));
    EXPECT_EQ(row[2].substr(0, row[2].find(',')), address);
    EXPECT_EQ(row[3], "18080:80/tcp");
    EXPECT_EQ(row[4], "sh");
    EXPECT_THAT(RowOf(table.out, name), HasSubstr("sh -c sleep 1000 & echo ready; wait"));

    Result json = lab().RunNsrun({"list", "--json"});
    ASSERT_EQ(json.status, 0) << json.Describe();
    const std::string file = lab().dir() + "/list.json";
    std::ofstream(file) << json.out;
    const char* script =
        "import json, sys\n"
        "entries = [e for e in json.load(open(sys.argv[1])) if e['name'] == sys.argv[2]]\n"
        "assert len(entries) == 1, entries\n"
        "e = entries[0]\n"
        "print(e['pid'], e['init_pid'] > 0, e['addresses'][0], ' '.join(e['ports']), json.dumps(e['command']))\n";
    Result parsed = RunCmd({"python3", "-c", script, file, name}, 10s);
    ASSERT_EQ(parsed.status, 0) << parsed.Describe() << json.out;
    EXPECT_EQ(parsed.out, std::to_string(p.pid()) + " True " + address +
                              " 18080:80/tcp [\"sh\", \"-c\", \"sleep 1000 & echo ready; wait\"]\n");

    p.Signal(SIGTERM);
    p.Wait(10s);
    EXPECT_EQ(RowOf(lab().RunNsrun({"list"}).out, name), "");
}

// issue 9: started in a private mount namespace (under `ip netns exec`, or `unshare -m`), nsrun mounted the
// name there only, and `ip netns exec NAME` anywhere else read an empty file ("Invalid argument").
TEST_F(NamesTest, TheNameReachesTheHostFromAPrivateMountNamespace) {
    lab().TurnOnForwarding();
    const std::string host_netns = "--net=/run/netns/" + lab().name() + "-host";
    for (const std::string how : {"ip netns exec", "unshare -m --propagation private"}) {
        const std::string name = Name(how.substr(0, 2));
        Argv args{"--net=nat", kSubnetFlag, "--name=" + name, "--", "sh", "-c", "echo ready; exec sleep 1000"};
        Argv argv = lab().Nsrun(args);
        if (how.starts_with("unshare")) {
            argv = {"nsenter", host_netns, "--", "unshare", "-m", "--propagation", "private", "--", NSRUN_BIN};
            argv.insert(argv.end(), args.begin(), args.end());
        }
        Process p(argv);
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << how << ": " << p.Wait(1s).Describe();
        Result addr = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
        EXPECT_EQ(addr.status, 0) << how << ": " << addr.Describe();
        EXPECT_TRUE(InPrefix(Eth0Ipv4(addr.out), kPool)) << how << ": " << addr.Describe();
        p.Signal(SIGTERM);
        Result r = p.Wait(10s);
        EXPECT_EQ(r.status, 128 + SIGTERM) << how << ": " << r.Describe();
        EXPECT_EQ(r.err, "") << how;
        EXPECT_FALSE(Exists(NetnsPath(name))) << how << ": the name goes with the sandbox";
    }
}

// "Where is my port?": a sandbox without a name is listed too, with its port; a SIGKILLed one's record goes
// with the next list.
TEST_F(NamesTest, ListShowsAnUnnamedSandboxWithItsPortUntilItDies) {
    const std::string marker = "sleep 1000." + UniqueToken();
    Process p(MachineNsrun({"--net=nat", kSubnetFlag, "-p", "18081:80", "--", "sh", "-c",
                            marker + " & echo ready; wait"}));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    auto row_of_pid = [&](const std::string& table) {
        for (const auto& line : Lines(table)) {
            auto columns = Columns(line);
            if (columns.size() >= 5 && columns[1] == std::to_string(p.pid())) return columns;
        }
        return std::vector<std::string>{};
    };
    Result table = lab().RunNsrun({"list"});
    ASSERT_EQ(table.status, 0) << table.Describe();
    auto row = row_of_pid(table.out);
    ASSERT_FALSE(row.empty()) << table.out;
    EXPECT_EQ(row[0], "-");
    EXPECT_TRUE(InPrefix(row[2].substr(0, row[2].find(',')), kPool)) << table.out;
    EXPECT_EQ(row[3], "18081:80/tcp");
    Result json = lab().RunNsrun({"list", "--json"});
    const std::string file = lab().dir() + "/unnamed.json";
    std::ofstream(file) << json.out;
    Result parsed = RunCmd({"python3", "-c",
                            "import json, sys\n"
                            "e = [e for e in json.load(open(sys.argv[1])) if e['pid'] == int(sys.argv[2])]\n"
                            "print(len(e), e[0]['name'], e[0]['ports'])\n",
                            file, std::to_string(p.pid())},
                           10s);
    EXPECT_EQ(parsed.out, "1 None ['18081:80/tcp']\n") << parsed.Describe() << json.out;

    std::string record;
    for (auto& entry : std::filesystem::directory_iterator("/run/nsrun/sandboxes"))
        if (entry.path().filename().string().starts_with("@" + std::to_string(p.pid()) + "."))
            record = entry.path();
    ASSERT_NE(record, "") << "the unnamed sandbox has a record";
    p.Signal(SIGKILL);
    EXPECT_EQ(p.Wait(5s).status, 128 + SIGKILL);
    EXPECT_TRUE(Exists(record)) << "control: a SIGKILLed nsrun cannot remove its record";
    Result after = lab().RunNsrun({"list"});
    EXPECT_TRUE(row_of_pid(after.out).empty()) << after.out;
    EXPECT_FALSE(Exists(record)) << "the next list removes a dead sandbox's record";
}

// After SIGKILL the kernel cannot remove the name's mount, which keeps the namespace and its veth alive.
class NamesCrashTest : public NamesTest {
protected:
    // Starts a named sandbox, SIGKILLs its nsrun and checks what is left.
    void Crash(const std::string& name) {
        const std::string marker = "sleep 1000." + UniqueToken();
        Process p = StartNamed(name, {}, marker);
        ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
        ASSERT_EQ(lab().NsrLinks().size(), 1u);
        ASSERT_TRUE(Exists(RecordPath(name))) << "a running named sandbox has a record";
        p.Signal(SIGKILL);
        EXPECT_EQ(p.Wait(5s).status, 128 + SIGKILL);
        EXPECT_TRUE(Eventually([&] { return RunCmd({"pgrep", "-fx", marker}, 5s).status == 1; }, 5s))
            << "a process of the sandbox outlived nsrun";
        // Control: the leftovers are there, or this test could not fail. Another test's `nsrun list` may clean
        // them up at any moment (that is the design); holding the record's mutex byte, as every cleaner must,
        // keeps it from doing so while we look. If one already did, the checks that follow still hold.
        auto cleaned_by_another = [&] {
            std::fprintf(stderr, "note: a concurrent nsrun list cleaned %s up before the control\n", name.c_str());
        };
        int fd = ::open(RecordPath(name).c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) return cleaned_by_another();  // a SIGKILLed nsrun cannot remove it
        ASSERT_GE(fd, 0) << std::strerror(errno);
        struct flock mutex{};
        mutex.l_type = F_WRLCK;
        mutex.l_whence = SEEK_SET;
        mutex.l_start = 1;
        mutex.l_len = 1;
        bool locked = ::fcntl(fd, F_OFD_SETLKW, &mutex) == 0;
        struct stat open_record{}, linked_record{};
        bool still_there = locked && ::fstat(fd, &open_record) == 0 &&
                           ::lstat(RecordPath(name).c_str(), &linked_record) == 0 &&
                           open_record.st_ino == linked_record.st_ino;
        bool netns_left = Exists(NetnsPath(name));
        size_t links_left = still_there ? lab().NsrLinks().size() : 1;
        ::close(fd);
        ASSERT_TRUE(locked);
        if (!still_there) return cleaned_by_another();
        ASSERT_TRUE(netns_left);
        ASSERT_EQ(links_left, 1u) << "the name's mount no longer holds the namespace";
    }

    void ExpectCleaned(const std::string& name) {
        EXPECT_FALSE(Exists(NetnsPath(name)));
        EXPECT_FALSE(IpNetnsListHas(name));
        EXPECT_FALSE(Exists(RecordPath(name)));
        EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s))
            << ::testing::PrintToString(lab().NsrLinks());
    }
};

TEST_F(NamesCrashTest, TheNextListCleansUpAndTheNameCanBeReused) {
    const std::string name = Name("crash");
    Crash(name);
    if (HasFatalFailure()) return;
    // From another mount namespace than the crashed nsrun's: unlinking the name detaches its mount everywhere.
    Result list = lab().RunNsrun({"list"});
    EXPECT_EQ(list.status, 0) << list.Describe();
    EXPECT_EQ(RowOf(list.out, name), "") << list.out;
    ExpectCleaned(name);

    Process again = StartNamed(name);
    ASSERT_TRUE(again.WaitForOutput("ready\n", 15s)) << again.Wait(1s).Describe();
    Result addr = RunCmd({"ip", "netns", "exec", name, "ip", "-brief", "addr", "show", "dev", "eth0"}, 10s);
    EXPECT_TRUE(InPrefix(Eth0Ipv4(addr.out), kPool)) << addr.Describe();
    again.Signal(SIGTERM);
    again.Wait(10s);
    ExpectCleaned(name);
}

TEST_F(NamesCrashTest, TheNextLaunchOfTheNameCleansUp) {
    const std::string name = Name("relaunch");
    Crash(name);
    if (HasFatalFailure()) return;
    Result r = RunCmd(MachineNsrun({"--net=nat", kSubnetFlag, "--name=" + name, "--", "ip", "-brief", "addr", "show",
                                    "dev", "eth0"}),
                      30s);
    EXPECT_EQ(r.status, 0) << r.Describe();
    EXPECT_TRUE(InPrefix(Eth0Ipv4(r.out), kPool)) << r.Describe();
    ExpectCleaned(name);
}

TEST_F(NamesCrashTest, ExecOfACrashedSandboxCleansUp) {
    const std::string name = Name("gone");
    Crash(name);
    if (HasFatalFailure()) return;
    Result r = lab().RunNsrun({"exec", name, "--", "true"});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_EQ(r.err, "nsrun: exec " + name + ": no running sandbox named " + name + "\n");
    ExpectCleaned(name);
}

// The start time (/proc/PID/stat field 22) of process `pid`, as a record carries it; "" when unreadable.
std::string StartTimeOf(pid_t pid) {
    const std::string stat_text = ReadFile(proc_path(pid, "stat"));
    if (stat_text.rfind(')') == std::string::npos) return "";
    auto fields = Columns(stat_text.substr(stat_text.rfind(')') + 2));
    return fields.size() >= 20 ? fields[19] : "";  // field 22 counted from the state (field 3)
}

// A complete record of NAME whose init is `init_pid` started at `start_time`, with the owner lock held by the
// test as a live nsrun would hold it: -1 on failure (the test's assertion says where), else the record's fd.
int ForgeLiveRecord(const std::string& name, pid_t init_pid, const std::string& start_time) {
    struct stat pid_ns{};
    if (::stat("/proc/self/ns/pid", &pid_ns) != 0) return -1;
    std::filesystem::create_directories("/run/nsrun/sandboxes");
    int fd = ::open(RecordPath(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    struct flock owner{};
    owner.l_type = F_WRLCK;
    owner.l_whence = SEEK_SET;
    owner.l_start = 0;
    owner.l_len = 1;
    const std::string record = "nsrun-sandbox 1\nname " + name + "\nnsrun-pid " + std::to_string(::getpid()) +
                               "\npid-namespace " + std::to_string(pid_ns.st_ino) + "\ninit-pid " +
                               std::to_string(init_pid) + "\ninit-start-time " + start_time +
                               "\nseccomp default\narg sleep\nend\n";
    if (::fcntl(fd, F_OFD_SETLK, &owner) != 0 || ::write(fd, record.data(), record.size()) != ssize_t(record.size())) {
        ::unlink(RecordPath(name).c_str());
        ::close(fd);
        return -1;
    }
    return fd;
}

// Records are files: one that names a process of the host (forged, or stale) must not get a program out of
// the sandbox world. The test holds the owner lock itself, as a live nsrun would.
TEST_F(NamesTest, ExecRefusesARecordThatNamesAHostProcess) {
    const std::string name = Name("forged");
    Process host_process({"sleep", "1000." + UniqueToken()});
    ASSERT_TRUE(Eventually([&] { return Exists("/proc/" + std::to_string(host_process.pid()) + "/stat"); }, 5s));
    const std::string start_time = StartTimeOf(host_process.pid());
    ASSERT_NE(start_time, "");
    const std::string marker = lab().dir() + "/escaped";
    int fd = ForgeLiveRecord(name, host_process.pid(), start_time);
    ASSERT_GE(fd, 0);

    Result listed = lab().RunNsrun({"list"});
    EXPECT_NE(RowOf(listed.out, name), "") << "control: the record looks like a running sandbox\n" << listed.out;
    Result r = lab().RunNsrun({"exec", name, "--", "touch", marker});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
    EXPECT_THAT(r.err, HasSubstr("is no sandbox's init"));
    EXPECT_FALSE(Exists(marker)) << "the program ran";
    ::unlink(RecordPath(name).c_str());
    ::close(fd);
}

// A live owner whose init has just ended (its pid now names another process): the join's "it has ended" is
// the subcommand's own "no running sandbox", not a failure of joining.
TEST_F(NamesTest, ExecOfASandboxWhoseInitEndedSaysNoRunningSandbox) {
    const std::string name = Name("ended");
    Process reused({"sleep", "1000." + UniqueToken()});
    ASSERT_TRUE(Eventually([&] { return Exists("/proc/" + std::to_string(reused.pid()) + "/stat"); }, 5s));
    const std::string start_time = StartTimeOf(reused.pid());
    ASSERT_NE(start_time, "");
    int fd = ForgeLiveRecord(name, reused.pid(), std::to_string(std::stoull(start_time) - 1));
    ASSERT_GE(fd, 0);
    Result r = lab().RunNsrun({"exec", name, "--", "true"});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_EQ(r.err, "nsrun: exec " + name + ": no running sandbox named " + name + "\n");
    ::unlink(RecordPath(name).c_str());
    ::close(fd);
}

TEST_F(NamesTest, NamingNeedsRoot) {
    const std::string name = Name("user");
    PublicCopy nsrun(NSRUN_BIN);
    Result r = RunCmd({"env", "-C", "/", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                       nsrun.path(), "--name=" + name, "--", "true"},
                      30s);
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
    EXPECT_THAT(r.err, HasSubstr("--name " + name + ": needs root"));
    EXPECT_FALSE(Exists(RecordPath(name)));
}

}  // namespace
}  // namespace nsrun::testing
