// Signals sent to nsrun reach the program; SIGKILL of nsrun leaves nothing behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <dirent.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;

struct SignalCase {
    int sig;
    const char* name;
    const char* net;
};

void PrintTo(const SignalCase& c, std::ostream* os) { *os << "SIG" << c.name << " with --net=" << c.net; }

std::string CaseName(const ::testing::TestParamInfo<SignalCase>& info) {
    return std::string(info.param.name) + "_" + info.param.net;
}

class SignalTest : public LabTest, public ::testing::WithParamInterface<SignalCase> {};

TEST_P(SignalTest, ReachesTheProgram) {
    const auto& c = GetParam();
    const std::string n = c.name;
    // The trap also ends the sleep, so nothing outlives the program.
    const std::string script = "trap 'echo got-" + n + "; kill $! 2>/dev/null; exit 0' " + n +
                               "; sleep 30 >/dev/null & echo ready; wait; echo no-trap-ran";
    Argv args{std::string("--net=") + c.net};
    if (std::string(c.net) == "nat") args.push_back(kSubnetFlag);
    args.insert(args.end(), {"--", "sh", "-c", script});
    Process p(lab().Nsrun(args));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    p.Signal(c.sig);
    Result r = p.Wait(10s);
    EXPECT_FALSE(r.timed_out) << r.Describe();
    EXPECT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "ready\ngot-" + n + "\n") << r.Describe();
}

INSTANTIATE_TEST_SUITE_P(Forwarded, SignalTest,
                         ::testing::Values(SignalCase{SIGTERM, "TERM", "none"}, SignalCase{SIGINT, "INT", "none"},
                                           SignalCase{SIGHUP, "HUP", "none"}, SignalCase{SIGUSR1, "USR1", "none"},
                                           SignalCase{SIGTERM, "TERM", "nat"}, SignalCase{SIGINT, "INT", "nat"},
                                           SignalCase{SIGHUP, "HUP", "nat"}, SignalCase{SIGUSR1, "USR1", "nat"}),
                         CaseName);

// Pids of processes whose command line is exactly argv.
std::vector<pid_t> FindProcesses(const Argv& argv) {
    std::string want;
    for (auto& a : argv) want += a + '\0';
    std::vector<pid_t> pids;
    for (auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "cmdline");
        std::stringstream s;
        s << in.rdbuf();
        if (s.str() == want) pids.push_back(std::stoi(name));
    }
    return pids;
}

class SigkillTest : public LabTest {};

TEST_F(SigkillTest, KillingNsrunLeavesNothingAndTheNextLaunchWorks) {
    // A grandchild marked by a unique argument ("sleep 1000.<token>" sleeps a little over 1000 s).
    const Argv sleeper{"sleep", "1000." + UniqueToken()};
    Process p(lab().Nsrun({"--net=nat", kSubnetFlag, "--", "sh", "-c",
                           sleeper[0] + " " + sleeper[1] + " & echo ready; wait"}));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 15s)) << p.Wait(1s).Describe();
    ASSERT_TRUE(Eventually([&] { return FindProcesses(sleeper).size() == 1; }, 5s)) << "control: the sleeper runs";
    ASSERT_EQ(lab().NsrLinks().size(), 1u) << "control: the sandbox's veth exists";
    std::error_code ec;
    ASSERT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(p.pid()) + "/exe", ec),
              std::filesystem::canonical(NSRUN_BIN))
        << "the process to kill must be nsrun itself";

    p.Signal(SIGKILL);
    Result r = p.Wait(5s);
    EXPECT_EQ(r.status, 128 + SIGKILL) << r.Describe();
    EXPECT_TRUE(Eventually([&] { return FindProcesses(sleeper).empty(); }, 5s))
        << "a process of the sandbox outlived nsrun";
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s))
        << ::testing::PrintToString(lab().HostLinks());

    Result next = lab().RunNsrun({"--net=nat", kSubnetFlag, "--", "curl", "-sS", "--max-time", "10",
                                  "http://example.com/"});
    ASSERT_EQ(next.status, 0) << next.Describe();
    EXPECT_THAT(next.out, HasSubstr("Example Domain"));
    // Whatever rules nsrun keeps between launches, a crash leaves no more than a clean run does.
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));
    const std::string nft_after_crash_and_run = lab().NftRuleset();
    Result again = lab().RunNsrun({"--net=nat", kSubnetFlag, "--", "true"});
    ASSERT_EQ(again.status, 0) << again.Describe();
    EXPECT_EQ(lab().NftRuleset(), nft_after_crash_and_run);
}

}  // namespace
}  // namespace nsrun::testing
