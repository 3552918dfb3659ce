// Stress: 200 --net=nat sandboxes started at once on a small machine all come up, with 200 distinct addresses,
// and leave nothing behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/unique_fd.h"
#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;

class StressTest : public LabTest {};

TEST_F(StressTest, TwoHundredNatSandboxesAtOnceGetDistinctAddressesAndLeaveNothing) {
    constexpr int kCount = 200;
    const std::string token = "stress" + UniqueToken();
    // Every sandbox prints its address and then blocks reading a FIFO that this test holds open for writing;
    // closing it releases all of them at once (EOF), so the 200 are alive together while their addresses are
    // compared, without 200 shells polling for a file on two cores. O_RDWR opens without waiting for a reader;
    // O_CLOEXEC keeps the write end out of every child, or the EOF would never come. Readable by all: root's
    // sandboxes are nobody to the host.
    ScratchPath fifo_file("release");  // the lab's directory is under /run, which the sandboxes have their own of
    const std::string& fifo = fifo_file.path();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0) << std::strerror(errno);
    UniqueFd release(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(release) << std::strerror(errno);
    const std::string script = "ip -4 -o addr show dev eth0 || exit 9; echo up; exec cat " + fifo;

    std::vector<Process> procs;
    procs.reserve(kCount);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i)
        procs.emplace_back(lab().Nsrun(Nat({"sh", "-c", script, token})));

    std::set<std::string> addresses;
    int up = 0;
    const auto deadline = start + 180s;
    for (int i = 0; i < kCount; ++i) {
        auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        if (!procs[i].WaitForOutput("up\n", std::max(left, Millis(1)))) {
            ADD_FAILURE() << "sandbox " << i << " did not come up: " << procs[i].Wait(1s).Describe();
            continue;
        }
        ++up;
        auto mine = Ipv4Addresses(procs[i].out());
        EXPECT_EQ(mine.size(), 1u) << procs[i].out();
        for (auto& a : mine) {
            EXPECT_TRUE(InPrefix(a, kPool)) << a;
            addresses.insert(a);
        }
    }
    EXPECT_EQ(up, kCount);
    EXPECT_EQ(addresses.size(), static_cast<size_t>(kCount)) << "addresses must be distinct";
    EXPECT_EQ(lab().NsrLinks().size(), static_cast<size_t>(kCount));

    release.reset();
    for (int i = 0; i < kCount; ++i) {
        Result r = procs[i].Wait(60s);
        EXPECT_EQ(r.status, 0) << "sandbox " << i << ": " << r.Describe();
    }
    // Teardown of a network namespace is asynchronous: its veth goes a moment after its last process.
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 60s))
        << ::testing::PrintToString(lab().NsrLinks());
    EXPECT_TRUE(Eventually([&] { return ProcessesMentioning(token).empty(); }, 10s))
        << "left running: " << ::testing::PrintToString(ProcessesMentioning(token));
    EXPECT_TRUE(ProcessesMentioning(fifo).empty());
    // Read from outside: a command run in the lab host would find itself there.
    Result ps = RunCmd({"ip", "netns", "pids", lab().name() + "-host"});
    EXPECT_EQ(ps.status, 0) << ps.Describe();
    EXPECT_EQ(ps.out, "") << "processes left in the lab host";
}

}  // namespace
}  // namespace nsrun::testing
