// Faults: nsrun SIGKILLed at random moments of its set-up leaves nothing behind; an exhausted pool is a clear
// error; a host ruleset that changed behind nsrun's back is repaired by the next launch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "base/unique_fd.h"
#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const Argv kCurlPage = {"curl", "-sS", "--max-time", "10", "http://example.com/"};

// Starts nsrun ARGS directly in network namespace `netns` (a /run/netns path): fork, setns, exec, nothing in
// between, so that a kill "N ms after the spawn" lands N ms into nsrun's own work rather than into a wrapper
// such as `ip netns exec`. stdin and stdout are /dev/null, stderr goes to `stderr_path`.
pid_t SpawnNsrunIn(const std::string& netns, const Argv& args, const std::string& stderr_path) {
    std::vector<std::string> storage{NSRUN_BIN};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    UniqueFd err(::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!ns || !null || !err) {
        ADD_FAILURE() << "cannot open " << netns << ", /dev/null or " << stderr_path << ": " << std::strerror(errno);
        return -1;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls after fork.
        ::setpgid(0, 0);
        if (::setns(ns.get(), CLONE_NEWNET) != 0 || ::dup2(null.get(), 0) < 0 || ::dup2(null.get(), 1) < 0 ||
            ::dup2(err.get(), 2) < 0)
            ::_exit(124);
        ::close_range(3, ~0U, 0);
        ::execv(argv[0], argv.data());
        ::_exit(124);
    }
    if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
    return pid;
}

// The kind of the last step `nsrun -v` logged ("nsrun:    1.234 ms (+0.100): created veth nsr5 for ..." ->
// "created veth"): its first words up to one with a digit (names, addresses, pids), at most four; "(none)"
// before the first step, or "error" for an error line.
std::string LastStep(const std::string& verbose_stderr) {
    std::string last = "(none)";
    for (auto& line : Lines(verbose_stderr)) {
        auto colon = line.find("): ");
        if (colon == std::string::npos) {
            if (line.starts_with("nsrun: ")) last = "error: " + line.substr(7);
            continue;
        }
        std::istringstream words(line.substr(colon + 3));
        std::string word, kind;
        for (int n = 0; n < 4 && words >> word; ++n) {
            if (word.find_first_of("0123456789(") != std::string::npos) break;
            kind += (kind.empty() ? "" : " ") + word;
        }
        last = kind;
    }
    return last;
}

class FaultTest : public LabTest {
protected:
    std::string Tables() {
        Result r = lab().Host({"nft", "list", "tables"}, 10s);
        EXPECT_EQ(r.status, 0) << r.Describe();
        return r.out;
    }
    std::string Nft(const std::string& script) {
        Result r = lab().Host({"nft", script}, 10s);
        EXPECT_EQ(r.status, 0) << "nft " << script << ": " << r.Describe();
        return r.out;
    }
    // A launch that fetches the page through --net=nat must work.
    void ExpectPageThroughNat(const std::string& what) {
        Result r = lab().RunNsrun(Nat(kCurlPage));
        EXPECT_EQ(r.status, 0) << what << ": " << r.Describe();
        EXPECT_THAT(r.out, HasSubstr("Example Domain")) << what;
    }
};

TEST_F(FaultTest, SigkillAtRandomMomentsOfSetUpLeavesNothingBehind) {
    constexpr int kKills = 80;
    constexpr int kMaxDelayUs = 10'000;
    const char* seed_text = std::getenv("NSRUN_FAULT_SEED");
    const unsigned seed = seed_text ? unsigned(std::strtoul(seed_text, nullptr, 10))
                                    : unsigned(std::chrono::steady_clock::now().time_since_epoch().count());
    std::cout << "[   INFO   ] seed " << seed << " (NSRUN_FAULT_SEED=" << seed << " repeats this run)" << std::endl;
    RecordProperty("seed", std::to_string(seed));
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> delay_us(0, kMaxDelayUs);

    // Digits only: `sleep 30.<token>` must be a valid duration (a little over 30 s), and it marks the processes.
    const std::string token = UniqueToken();
    const std::string netns = "/run/netns/" + lab().name() + "-host";
    const std::string err_path = lab().dir() + "/nsrun.err";
    const Argv publish{"-p", "8080:80", "--dns", "198.51.100.53"};  // --dns: the machine's resolv.conf may be a stub
    auto name_of = [&](int i) { return "flt" + token + "x" + std::to_string(i); };

    // One complete launch first: what a clean run keeps between launches (table inet nsrun) is the baseline.
    Result warm = lab().RunNsrun(Nat({"true"}, publish));
    ASSERT_EQ(warm.status, 0) << warm.Describe();
    ASSERT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s));
    const std::string tables_before = Tables();

    std::map<std::string, int> reached;  // last set-up step logged before the kill -> how many times
    for (int i = 0; i < kKills; ++i) {
        const int delay = delay_us(rng);
        Argv extra = publish;
        extra.push_back("-v");
        if (i % 2 == 1) extra.push_back("--name=" + name_of(i));  // every other one also names its sandbox
        if (i % 3 == 2) extra.push_back("--net-only");  // no pid namespace: its keeper must end the program
        pid_t pid = SpawnNsrunIn(netns, Nat({"sleep", "30." + token}, extra), err_path);
        ASSERT_GT(pid, 0);
        ::usleep(useconds_t(delay));
        ::kill(pid, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        const std::string err = ReadFile(err_path);
        // sleep 30 cannot end on its own within 10 ms: an nsrun that exited by itself failed.
        EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "kill " << i << " after " << delay << " us: nsrun ended by itself, status "
            << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ", stderr:\n" << err;
        ++reached[LastStep(err)];
    }
    std::cout << "[   INFO   ] where the " << kKills << " kills landed (last step nsrun -v had logged):" << std::endl;
    for (auto& [step, n] : reached) std::cout << "[   INFO   ]   " << n << " x " << step << std::endl;

    // A dead owner's name is removed by the next nsrun that looks at it (SIGKILL cannot unmount
    // /run/netns/NAME, which would otherwise keep the namespace and its veth alive).
    Result list = lab().RunNsrun({"list"});
    EXPECT_EQ(list.status, 0) << list.Describe();
    EXPECT_THAT(list.out, Not(HasSubstr("flt" + token))) << "a killed sandbox is listed as running";

    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(token).empty(); }, 10s))
        << "left running: " << ::testing::PrintToString(ProcessesMentioning(token));
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 30s))
        << "veths left: " << ::testing::PrintToString(lab().NsrLinks());
    for (int i = 1; i < kKills; i += 2) {
        EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name_of(i))) << "named namespace left: " << name_of(i);
    }
    // Per-sandbox tables (published ports) belong to nsrun's netlink socket: the kernel removes them with it.
    std::string tables_after;
    EXPECT_TRUE(Eventually([&] { return (tables_after = Tables()) == tables_before; }, 10s))
        << "before:\n" << tables_before << "after:\n" << tables_after;

    ExpectPageThroughNat("the next launch");
    Result again = lab().RunNsrun(Nat({"true"}, publish));
    EXPECT_EQ(again.status, 0) << "the published port must be free again: " << again.Describe();
}

TEST_F(FaultTest, ExhaustedPoolIsAClearErrorNamingThePool) {
    // A /30 has exactly one sandbox address (.2: .0 is the network, .1 the gateway, .3 broadcast).
    const std::string tiny = "--subnet=203.0.113.0/30";
    Process holder(lab().Nsrun({"--net=nat", tiny, kSubnet6Flag, "--", "sh", "-c", "echo ready; exec sleep 30"}));
    ASSERT_TRUE(holder.WaitForOutput("ready\n", 15s)) << holder.Wait(1s).Describe();
    const std::string before = lab().NftRuleset();
    const auto links_before = lab().HostLinks();

    Result second = lab().RunNsrun({"--net=nat", tiny, kSubnet6Flag, "--", "true"});
    EXPECT_EQ(second.status, 125) << second.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(second.err));
    EXPECT_THAT(second.err, HasSubstr("203.0.113.0/30"));
    EXPECT_THAT(second.err, HasSubstr("in use"));
    EXPECT_EQ(lab().HostLinks(), links_before) << "a refused launch changes nothing";
    EXPECT_EQ(lab().NftRuleset(), before);

    holder.Signal(SIGTERM);
    EXPECT_EQ(holder.Wait(10s).status, 128 + SIGTERM);
    ASSERT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 10s));
    Result third = lab().RunNsrun({"--net=nat", tiny, kSubnet6Flag, "--", "true"});
    EXPECT_EQ(third.status, 0) << "the slot is free again: " << third.Describe();
}

TEST_F(FaultTest, TableDeletedWhileASandboxRunsIsRecreatedByTheNextLaunch) {
    ScratchPath go_file("go");  // the lab's directory is under /run, which the sandboxes have their own of
    const std::string& go = go_file.path();
    // The running sandbox fetches the page only after the table is gone and back.
    Process running(lab().Nsrun(Nat({"sh", "-c",
                                     "echo ready; i=0; while [ ! -e " + go + " ] && [ $i -lt 300 ]; do sleep 0.1; "
                                     "i=$((i+1)); done; exec curl -sS --max-time 10 http://example.com/"})));
    ASSERT_TRUE(running.WaitForOutput("ready\n", 15s)) << running.Wait(1s).Describe();
    ASSERT_THAT(Tables(), HasSubstr("table inet nsrun"));
    Nft("delete table inet nsrun");
    ASSERT_THAT(Tables(), Not(HasSubstr("table inet nsrun")));

    ExpectPageThroughNat("the launch after the table was deleted");
    EXPECT_THAT(Nft("list table inet nsrun"), HasSubstr("masquerade"));
    std::ofstream(go) << "";
    Result r = running.Wait(20s);
    EXPECT_EQ(r.status, 0) << "the sandbox that ran all along is masqueraded again: " << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("Example Domain"));
}

TEST_F(FaultTest, FlushedChainsGetTheirRulesBackOnce) {
    ExpectPageThroughNat("the first launch");
    const std::string installed = Nft("list table inet nsrun");
    Nft("flush table inet nsrun");
    ASSERT_THAT(Nft("list table inet nsrun"), Not(HasSubstr("masquerade")));
    ExpectPageThroughNat("the launch after the flush");
    ExpectPageThroughNat("one more launch");
    const std::string restored = Nft("list table inet nsrun");
    auto count = [](const std::string& text, const std::string& what) {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count(restored, "ip saddr 203.0.113.0/24"), 1u) << restored;
    EXPECT_EQ(count(restored, "\n\t\t"), count(installed, "\n\t\t")) << "installed:\n" << installed << "restored:\n"
                                                                     << restored;
}

TEST_F(FaultTest, DeletedPostroutingChainIsRecreatedOrAClearError) {
    ExpectPageThroughNat("the first launch");
    // The table and its counters stay; only the chain that holds the masquerade rules is gone.
    Nft("flush chain inet nsrun postrouting");
    Nft("delete chain inet nsrun postrouting");
    Result r = lab().RunNsrun(Nat(kCurlPage));
    if (r.status == 0) {
        EXPECT_THAT(r.out, HasSubstr("Example Domain"));
        EXPECT_THAT(Nft("list table inet nsrun"), HasSubstr("masquerade"));
    } else {
        // Refusing is acceptable only as one clear line that says what to do.
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr("delete table inet nsrun")) << "the error should tell how to recover";
    }
    // Either way the launch after it works.
    ExpectPageThroughNat("the launch after that");
}

TEST_F(FaultTest, StrangersTableOfTheSameNameIsReplaced) {
    // Somebody else's `table inet nsrun`: no nsrun comment, a drop-policy forward chain of its own.
    Nft("add table inet nsrun { comment \"somebody else's\"; }");
    Nft("add chain inet nsrun theirs { type filter hook forward priority 0; policy drop; }");
    ExpectPageThroughNat("a launch over a stranger's table");
    const std::string table = Nft("list table inet nsrun");
    EXPECT_THAT(table, Not(HasSubstr("somebody else's")));
    EXPECT_THAT(table, Not(HasSubstr("chain theirs")));
    EXPECT_THAT(table, HasSubstr("comment \"nsrun v"));
    EXPECT_THAT(table, HasSubstr("masquerade"));
}

TEST_F(FaultTest, DropPolicyForwardChainAddedBetweenLaunchesGetsAccepts) {
    ExpectPageThroughNat("the first launch");
    Nft("add table inet strict");
    Nft("add chain inet strict forward_filter { type filter hook forward priority 0; policy drop; }");
    ExpectPageThroughNat("the launch after a drop-policy forward chain appeared");
    EXPECT_THAT(Nft("list table inet strict"), HasSubstr("nsrun: let sandboxes (nsr*) out"));
    // And the host still forwards nothing else: the chain's policy is untouched.
    EXPECT_THAT(Nft("list table inet strict"), HasSubstr("policy drop"));
}

}  // namespace
}  // namespace nsrun::testing
