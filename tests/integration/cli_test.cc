// Exit statuses, error reporting and bad inputs, --verbose, --version, --help.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;

class CliTest : public LabTest {
protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        std::string tmpl = std::string(kHostScratch) + "/nsrun-cli-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        tmp_ = tmpl;
    }
    void TearDown() override {
        if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
        LabTest::TearDown();
    }
    std::string tmp_;
};

struct StatusCase {
    const char* what;
    Argv args;
    int status;
    bool nsrun_error;  // whether stderr must be exactly one "nsrun: " line
};

TEST_F(CliTest, ExitStatusIsTheProgramsOwnOrTellsWhatFailed) {
    const std::string not_executable = tmp_ + "/not-executable";
    std::ofstream(not_executable) << "#!/bin/sh\necho should not run\n";
    ::chmod(not_executable.c_str(), 0644);
    lab().TurnOnForwarding();

    const std::vector<StatusCase> cases = {
        {"true", {"--", "true"}, 0, false},
        {"exit 3", {"--", "sh", "-c", "exit 3"}, 3, false},
        {"exit 255", {"--", "sh", "-c", "exit 255"}, 255, false},
        {"exit 3 with nat", {"--net=nat", kSubnetFlag, "--", "sh", "-c", "exit 3"}, 3, false},
        {"exit 3 with host", {"--net=host", "--", "sh", "-c", "exit 3"}, 3, false},
        {"killed by TERM", {"--", "sh", "-c", "kill -TERM $$"}, 128 + 15, false},
        {"killed by KILL", {"--", "sh", "-c", "kill -KILL $$"}, 128 + 9, false},
        {"killed by TERM with nat", {"--net=nat", kSubnetFlag, "--", "sh", "-c", "kill -TERM $$"}, 128 + 15, false},
        {"not found by path", {"--", "/nonexistent/program"}, 127, true},
        {"not found in PATH", {"--", "no-such-program-" + UniqueToken()}, 127, true},
        {"not found with nat", {"--net=nat", kSubnetFlag, "--", "/nonexistent/program"}, 127, true},
        {"not executable", {"--", not_executable}, 126, true},
        {"a directory", {"--", tmp_}, 126, true},
        {"usage error", {"--no-such-option", "--", "true"}, 125, true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        Result r = lab().RunNsrun(c.args);
        EXPECT_EQ(r.status, c.status) << r.Describe();
        if (c.nsrun_error) {
            EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
            EXPECT_EQ(r.out, "");
        } else {
            EXPECT_EQ(r.err, "") << "nsrun adds nothing to stderr when the program ran";
        }
    }
    EXPECT_TRUE(Eventually([&] { return lab().NsrLinks().empty(); }, 5s));
}

struct BadInput {
    Argv args;
    Argv env;  // extra environment
    const char* must_mention = nullptr;
};

TEST_F(CliTest, BadInputsAreUsageErrorsThatLeaveNoTrace) {
    const std::string nft_before = lab().NftRuleset();
    const std::vector<BadInput> cases = {
        {{}, {}},
        {{"--bogus", "--", "true"}, {}},
        {{"-x", "--", "true"}, {}},
        {{"-v", "--bogus", "--", "true"}, {}},
        {{"--net=bogus", "--", "true"}, {}, "--net"},
        {{"--net=", "--", "true"}, {}},
        {{"--net", "--", "true"}, {}},
        {{"--net=nat", kSubnetFlag, "--dns=999.1.1.1", "--", "true"}, {}, "--dns"},
        {{"--net=nat", kSubnetFlag, "--dns=1.2.3", "--", "true"}, {}, "--dns"},
        {{"--net=nat", kSubnetFlag, "--dns=01.2.3.4", "--", "true"}, {}, "--dns"},
        {{"--net=nat", kSubnetFlag, "--dns=abc", "--", "true"}, {}, "--dns"},
        {{"--net=nat", kSubnetFlag, "--dns=1.2.3.4.5", "--", "true"}, {}, "--dns"},
        {{"--net=nat", kSubnetFlag, "--dns=", "--", "true"}, {}},
        {{"--net=none", "--dns=198.51.100.53", "--", "true"}, {}, "--dns: only with --net=nat or --net=move:IFACE"},
        {{"--net=host", "--dns=198.51.100.53", "--", "true"}, {}, "--dns: only with --net=nat or --net=move:IFACE"},
        {{"--dns=198.51.100.53", "--", "true"}, {}, "--dns: only with --net=nat or --net=move:IFACE"},
        {{"--net=nat", "--subnet=10.0.0.0/33", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=10.0.0.1/24", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=10.0.0.0", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=256.0.0.0/8", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=203.0.113.0/-1", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=203.0.113.0/24x", "--", "true"}, {}, "--subnet"},
        {{"--net=nat", "--subnet=", "--", "true"}, {}},
        {{"--net=nat", "--subnet=203.0.113.0/31", "--", "true"}, {}},
        {{"--net=nat", "--subnet=203.0.113.0/32", "--", "true"}, {}},
        {{"--net=nat", "--subnet=198.51.100.0/24", "--", "true"},
         {},
         "--subnet 198.51.100.0/24: 198.51.100.0/24 overlaps the host's route 198.51.100.0/24 (dev uplink)"},
        {{"--net=nat", "--subnet=198.51.100.128/25", "--", "true"}, {}},  // inside the uplink's route
        {{"--net=nat"}, {}},
        {{"--net=nat", "--"}, {}},
        {{"--net=nat", kSubnetFlag, "--", ""}, {}},
        {{"--", ""}, {}},
        {{"--net=nat", "--", "true"}, {"NSRUN_SUBNET=garbage"}},
        {{"--net=nat", "--", "true"}, {"NSRUN_SUBNET=198.51.100.0/24"}},
        {{"--net=nat", "--", "true"}, {"NSRUN_SUBNET=203.0.113.0/31"}},
        // A mount on / is under the program's root, never seen: it would do nothing and report success.
        {{"--tmpfs=/", "--", "true"}, {}, "--tmpfs /: nothing can be mounted on /"},
        {{"--tmpfs=//.", "--", "true"}, {}, "--tmpfs //.: nothing can be mounted on /"},
        {{"--bind=/tmp:/", "--", "true"}, {}, "--bind /tmp:/: nothing can be mounted on /"},
    };
    for (const auto& c : cases) {
        std::string label;
        for (auto& e : c.env) label += e + " ";
        label += "nsrun";
        for (auto& a : c.args) label += " '" + a + "'";
        SCOPED_TRACE(label);
        Argv argv{"env"};
        argv.insert(argv.end(), c.env.begin(), c.env.end());
        argv.push_back(NSRUN_BIN);
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        Result r = lab().Host(argv);
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_EQ(r.out, "");
        if (c.must_mention) {
            EXPECT_THAT(r.err, HasSubstr(c.must_mention));
        }
        EXPECT_TRUE(lab().NsrLinks().empty()) << ::testing::PrintToString(lab().HostLinks());
        EXPECT_EQ(lab().NftRuleset(), nft_before);
    }
}

TEST_F(CliTest, VerbosePrintsTimedStepsOnStderr) {
    const std::regex step(R"(nsrun: +\+?[0-9]+\.[0-9]+ ms \(\+[0-9]+\.[0-9]+\): .+)");
    for (const char* flag : {"-v", "--verbose"}) {
        SCOPED_TRACE(flag);
        Result r = lab().RunNsrun({flag, "--net=nat", kSubnetFlag, "--", "sh", "-c", "echo hello"});
        ASSERT_EQ(r.status, 0) << r.Describe();
        EXPECT_EQ(r.out, "hello\n");
        size_t steps = 0;
        for (auto& line : Lines(r.err)) {
            EXPECT_TRUE(line.starts_with("nsrun: ")) << line;
            steps += std::regex_match(line, step);
        }
        EXPECT_GE(steps, 3u) << "expected timed steps like \"nsrun: +0.412 ms (+0.031): what\":\n" << r.err;
    }
    Result quiet = lab().RunNsrun({"--net=nat", kSubnetFlag, "--", "sh", "-c", "echo hello"});
    ASSERT_EQ(quiet.status, 0) << quiet.Describe();
    EXPECT_EQ(quiet.err, "") << "without --verbose nsrun prints nothing";
}

TEST_F(CliTest, VersionAndHelp) {
    Result version = lab().RunNsrun({"--version"});
    EXPECT_EQ(version.status, 0) << version.Describe();
    EXPECT_EQ(version.out, "nsrun 0.1.0\n");
    EXPECT_EQ(version.err, "");
    for (const char* flag : {"-h", "--help"}) {
        SCOPED_TRACE(flag);
        Result help = lab().RunNsrun({flag});
        EXPECT_EQ(help.status, 0) << help.Describe();
        EXPECT_THAT(help.out, HasSubstr("PROGRAM"));
        EXPECT_THAT(help.out, HasSubstr("host's network; move:IFACE")) << "--net's line names every mode";
        for (const char* option : {"--net", "--dns", "--subnet", "--verbose", "--version", "--help"})
            EXPECT_THAT(help.out, HasSubstr(option));
        EXPECT_EQ(help.err, "");
    }
}

}  // namespace
}  // namespace nsrun::testing
