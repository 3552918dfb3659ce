// --net=none (the default, also unprivileged) and --net=host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Interface names in /proc/net/dev output.
std::vector<std::string> ProcNetDevNames(const std::string& text) {
    std::vector<std::string> names;
    for (auto& line : Lines(text)) {
        auto colon = line.find(':');
        if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
        auto start = line.find_first_not_of(' ');
        names.push_back(line.substr(start, colon - start));
    }
    return names;
}

std::string Before(const std::string& out, const std::string& marker) { return out.substr(0, out.find(marker)); }
std::string After(const std::string& out, const std::string& marker) {
    auto pos = out.find(marker);
    return pos == std::string::npos ? "" : out.substr(pos + marker.size());
}

const char* kInspect = "cat /proc/net/dev; echo ==; ip -o link; echo ==; readlink /proc/self/ns/net";

class ModesTest : public LabTest {
protected:
    std::string HostNetNs() {
        Result r = lab().Host({"readlink", "/proc/self/ns/net"});
        EXPECT_EQ(r.status, 0) << r.Describe();
        return r.out;
    }
};

TEST_F(ModesTest, NoneHasOnlyLoopbackAndItIsUp) {
    for (const Argv& args : {Argv{"--net=none", "--"}, Argv{"--"}}) {
        SCOPED_TRACE(args[0]);
        Argv full = args;
        full.insert(full.end(), {"sh", "-c", kInspect});
        Result r = lab().RunNsrun(full);
        ASSERT_EQ(r.status, 0) << r.Describe();
        EXPECT_THAT(ProcNetDevNames(Before(r.out, "==")), ElementsAre("lo")) << r.out;
        auto links = Lines(Before(After(r.out, "==\n"), "=="));
        ASSERT_EQ(links.size(), 1u) << r.out;
        EXPECT_THAT(links[0], HasSubstr(": lo: <LOOPBACK,UP,LOWER_UP>"));
        EXPECT_NE(After(After(r.out, "==\n"), "==\n"), HostNetNs());
    }
}

TEST_F(ModesTest, NoneCannotReachTheServer) {
    size_t before = lab().WebLog().size();
    Result r = lab().RunNsrun({"--net=none", "--", "curl", "-sS", "--max-time", "3", "http://198.51.100.80/"});
    EXPECT_NE(r.status, 0) << r.Describe();
    EXPECT_NE(r.status, 125) << "curl must have run and failed, not nsrun: " << r.Describe();
    EXPECT_EQ(lab().WebLog().size(), before);
}

TEST_F(ModesTest, NoneWorksForAnUnprivilegedUser) {
    PublicCopy nsrun(NSRUN_BIN);
    Result r = lab().Host({"env", "-C", "/", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                           nsrun.path(), "--net=none", "--", "sh", "-c", kInspect});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(ProcNetDevNames(Before(r.out, "==")), ElementsAre("lo")) << r.out;
    auto links = Lines(Before(After(r.out, "==\n"), "=="));
    ASSERT_EQ(links.size(), 1u) << r.out;
    EXPECT_THAT(links[0], HasSubstr(": lo: <LOOPBACK,UP,LOWER_UP>"));
    EXPECT_NE(After(After(r.out, "==\n"), "==\n"), HostNetNs());

    // And its exit status passes through too.
    Result three = lab().Host({"env", "-C", "/", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "--", nsrun.path(), "--", "sh", "-c", "exit 3"});
    EXPECT_EQ(three.status, 3) << three.Describe();
}

TEST_F(ModesTest, UnprivilegedNatIsRefusedCleanly) {
    PublicCopy nsrun(NSRUN_BIN);
    Result r = lab().Host({"env", "-C", "/", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                           nsrun.path(), "--net=nat", kSubnetFlag, "--", "true"});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
    EXPECT_TRUE(lab().NsrLinks().empty());
}

TEST_F(ModesTest, HostSharesTheHostNetwork) {
    Result r = lab().RunNsrun({"--net=host", "--", "sh", "-c", kInspect});
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto names = ProcNetDevNames(Before(r.out, "=="));
    std::set<std::string> set(names.begin(), names.end());
    EXPECT_EQ(set, (std::set<std::string>{"lo", "uplink"})) << r.out;
    EXPECT_EQ(After(After(r.out, "==\n"), "==\n"), HostNetNs());
    Result curl = lab().RunNsrun({"--net=host", "--", "curl", "-4", "-sS", "--max-time", "5", "http://example.com/"});
    ASSERT_EQ(curl.status, 0) << curl.Describe();
    EXPECT_THAT(curl.out, HasSubstr("Example Domain"));
    EXPECT_TRUE(lab().NsrLinks().empty());
}

}  // namespace
}  // namespace nsrun::testing
