// --rate: a NAT'd sandbox's bandwidth, measured with iperf3 against a server in the lab's internet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kLimitKbits = 10'000;  // --rate=10mbit

// The receiver's rate (Kbit/s) of each `iperf3 -f k` run in `out`, in order.
std::vector<double> ReceiverKbits(const std::string& out) {
    std::vector<double> rates;
    for (auto& line : Lines(out)) {
        if (!Contains(line, "receiver")) continue;
        std::istringstream in(line);
        std::string previous, word;
        while (in >> word) {
            if (word == "Kbits/sec") rates.push_back(std::stod(previous));
            previous = word;
        }
    }
    return rates;
}

class RateTest : public LabTest {
protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        server_.emplace(lab().InInet({"iperf3", "-s", "--forceflush", "-B", "198.51.100.1", "-p", "5201"}));
        ASSERT_TRUE(server_->WaitForOutput("Server listening", 10s)) << server_->Wait(1s).Describe();
    }
    void TearDown() override {
        server_.reset();
        LabTest::TearDown();
    }

    // Upload (sandbox -> internet) then download, `seconds` each. iperf3's server runs one test at a time and
    // needs a moment after one before it takes the next: it answers "the server is busy running a test", or
    // resets the connection. A client refused so tries again, at most 10 times, 0.3 s apart.
    static std::string Measure(int seconds) {
        const std::string t = std::to_string(seconds);
        return "run() { for i in 1 2 3 4 5 6 7 8 9 10; do "
               "out=$(iperf3 -f k -t " + t + " \"$@\" -c 198.51.100.1 -p 5201 2>&1) && "
               "{ echo \"$out\" | grep receiver; return 0; }; "
               "case $out in *busy*|*'unable to connect'*) sleep 0.3 ;; *) echo \"$out\"; return 1 ;; esac; done; "
               "echo \"$out\"; return 1; }; "
               "run && run -R";
    }

    std::optional<Process> server_;
};

TEST_F(RateTest, TenMegabitIsAboutTenMegabitBothWaysAndOnlyWithTheOption) {
    Process p(lab().Nsrun({"--net=nat", kSubnetFlag, "--rate=10mbit", "--", "sh", "-c",
                           "tc qdisc show dev eth0; echo ==; " + Measure(3) + "; echo ready; exec sleep 30"}));
    ASSERT_TRUE(p.WaitForOutput("ready\n", 30s)) << p.Wait(1s).Describe();
    // Both ends carry the token bucket: eth0 in the sandbox (upload), the host end (download).
    EXPECT_THAT(p.out(), HasSubstr("qdisc tbf")) << p.out();
    EXPECT_THAT(p.out(), HasSubstr("rate 10Mbit")) << p.out();
    auto nsr = lab().NsrLinks();
    ASSERT_EQ(nsr.size(), 1u);
    Result host_end = lab().Host({"tc", "qdisc", "show", "dev", nsr[0]});
    EXPECT_THAT(host_end.out, HasSubstr("qdisc tbf")) << host_end.Describe();
    EXPECT_THAT(host_end.out, HasSubstr("rate 10Mbit")) << host_end.Describe();
    auto limited = ReceiverKbits(p.out());
    p.Signal(SIGTERM);
    p.Wait(10s);
    ASSERT_EQ(limited.size(), 2u) << p.out();
    for (double kbits : limited) {
        EXPECT_GT(kbits, 0.5 * kLimitKbits) << p.out();
        EXPECT_LT(kbits, 1.5 * kLimitKbits) << p.out();
    }

    Result free = lab().RunNsrun({"--net=nat", kSubnetFlag, "--", "sh", "-c", Measure(2)}, 30s);
    ASSERT_EQ(free.status, 0) << free.Describe();
    auto unlimited = ReceiverKbits(free.out);
    ASSERT_EQ(unlimited.size(), 2u) << free.out;
    for (double kbits : unlimited) EXPECT_GT(kbits, 10 * kLimitKbits) << free.out;
    std::printf("[ measured ] --rate=10mbit: up %.0f, down %.0f Kbit/s; without: up %.0f, down %.0f Kbit/s\n",
                limited[0], limited[1], unlimited[0], unlimited[1]);
}

TEST_F(RateTest, OneMegabitScalesDown) {
    Result r = lab().RunNsrun({"--net=nat", kSubnetFlag, "--rate=1mbit", "--", "sh", "-c", Measure(3)}, 30s);
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto rates = ReceiverKbits(r.out);
    ASSERT_EQ(rates.size(), 2u) << r.out;
    for (double kbits : rates) {
        EXPECT_GT(kbits, 500) << r.out;
        EXPECT_LT(kbits, 1500) << r.out;
    }
}

TEST_F(RateTest, RatesTheTokenBucketCannotTakeAre125AndChangeNothing) {
    for (const char* rate : {"--rate=20gbit", "--rate=fast"}) {
        Result r = lab().RunNsrun({"--net=nat", kSubnetFlag, rate, "--", "true"});
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr("--rate"));
    }
    Result none = lab().RunNsrun({"--net=none", "--rate=10mbit", "--", "true"});
    EXPECT_EQ(none.status, 125) << none.Describe();
    EXPECT_TRUE(lab().NsrLinks().empty());
}

}  // namespace
}  // namespace nsrun::testing
