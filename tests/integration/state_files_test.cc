// /run/nsrun is untrusted input: a sandboxed uid 0 once created it before any root nsrun had, and planted a
// record of a moved interface that the next root nsrun applied to a host interface. Every root launch now makes
// the directory before the clone, and every file in it must be a regular file or directory of root's that
// nobody else can write, reached without a symlink; what fails is refused or ignored with one line.
//
// The tests that change /run/nsrun itself do so in a mount namespace of their own with a fresh /run; the
// others plant files under names of their own lab in the machine's /run/nsrun and remove them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kNobody = 65534;

class StateFilesTest : public LabTest {
protected:
    void TearDown() override {
        for (const auto& path : planted_) std::filesystem::remove_all(path);
        LabTest::TearDown();
    }

    // `script` run by sh in a private mount namespace whose /run is a fresh tmpfs (no /run/nsrun yet); $NSRUN is
    // nsrun.
    Result InFreshRun(const std::string& script) {
        return RunCmd({"unshare", "-m", "--propagation", "private", "sh", "-c",
                       "mount -t tmpfs nsrun-test /run || exit 99\n" + script},
                      30s, {std::string("NSRUN=") + NSRUN_BIN});
    }

    // A file planted in the machine's /run/nsrun, removed after the test.
    std::string Plant(const std::string& path, const std::string& text, uid_t owner, mode_t mode) {
        planted_.push_back(path);
        std::ofstream(path) << text;
        EXPECT_EQ(::chown(path.c_str(), owner, 0), 0);
        EXPECT_EQ(::chmod(path.c_str(), mode), 0);
        return path;
    }
    std::string PlantLink(const std::string& path, const std::string& target) {
        planted_.push_back(path);
        std::filesystem::create_symlink(target, path);
        return path;
    }
    void Remember(const std::string& path) { planted_.push_back(path); }

    // SO_NETNS_COOKIE of the lab host's network namespace: the directory its moved records live in.
    std::string HostCookie() {
        Result r = lab().Host({"python3", "-c",
                               "import socket\n"
                               "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                               "print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), 'little'))\n"});
        EXPECT_EQ(r.status, 0) << r.Describe();
        return r.out.substr(0, r.out.find('\n'));
    }

private:
    std::vector<std::string> planted_;
};

TEST_F(StateFilesTest, EveryRootLaunchMakesTheStateDirectoryBeforeTheSandboxCan) {
    Result r = InFreshRun(
        // The sandbox's /run is its own: whatever it makes there is not the host's /run/nsrun.
        "\"$NSRUN\" -- sh -c 'mkdir -p /run/nsrun/moved 2>/dev/null; true'\n"
        "stat -c '%u %a %F' /run/nsrun\n"
        "test -e /run/nsrun/moved && echo moved-exists\n"
        "exit 0\n");
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "0 755 directory\n") << r.Describe();
}

TEST_F(StateFilesTest, AStateDirectoryThatIsNotRootsAloneIsRefused) {
    struct Case {
        const char* make;
        const char* says;
    };
    for (const Case& c : {Case{"mkdir /run/nsrun && chown 65534 /run/nsrun", "owned by uid 65534, not root"},
                          Case{"mkdir -m 0775 /run/nsrun", "writable by its group or others"},
                          Case{"mkdir /run/elsewhere && ln -s /run/elsewhere /run/nsrun", "a symbolic link"},
                          Case{"mkdir -p /run/nsrun/sandboxes && chown 65534 /run/nsrun/sandboxes",
                               "/run/nsrun/sandboxes: owned by uid 65534, not root"}}) {
        SCOPED_TRACE(c.make);
        Result r = InFreshRun(std::string(c.make) + " || exit 98\nexec \"$NSRUN\" -- echo ran\n");
        EXPECT_EQ(r.status, 125) << r.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr(c.says));
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(StateFilesTest, PlantedSandboxRecordsAreIgnoredWithOneLineEach) {
    const std::string dir = "/run/nsrun/sandboxes";
    std::filesystem::create_directories(dir);
    const std::string record = "nsrun-sandbox 1\nname NAME\nnsrun-pid 1\npid-namespace 1\ninit-pid 1\n"
                               "init-start-time 0\nseccomp off\narg sh\nend\n";
    const std::string owned = Plant(dir + "/" + lab().name() + "-owned", record, kNobody, 0600);
    const std::string writable = Plant(dir + "/" + lab().name() + "-writable", record, 0, 0620);
    const std::string link = PlantLink(dir + "/" + lab().name() + "-link", "/etc/hostname");

    Result list = lab().RunNsrun({"list"});
    EXPECT_EQ(list.status, 0) << list.Describe();
    EXPECT_THAT(list.out, Not(HasSubstr(lab().name()))) << list.out;
    for (const auto& [path, why] : {std::pair{owned, "owned by uid 65534, not root"},
                                    std::pair{writable, "writable by its group or others"},
                                    std::pair{link, "a symbolic link"}}) {
        EXPECT_THAT(list.err, HasSubstr("nsrun: warning: " + path + ": " + std::string(why))) << list.err;
        EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(path))) << path << " is left alone";
    }
    Result exec = lab().RunNsrun({"exec", lab().name() + "-owned", "--", "true"});
    EXPECT_EQ(exec.status, 125) << exec.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(exec.err));
    EXPECT_THAT(exec.err, HasSubstr(owned + ": owned by uid 65534, not root"));
}

// A record is applied to the interface it names: one that is not root's alone, or that names another
// interface than its file, must be refused before anything is read from it.
TEST_F(StateFilesTest, PlantedMovedInterfaceRecordsAreRefusedWithOneLine) {
    const std::string dir = "/run/nsrun/moved/" + HostCookie();
    ASSERT_NE(dir, "/run/nsrun/moved/");
    std::filesystem::create_directories(dir);
    Remember(dir);
    ::chmod("/run/nsrun/moved", 0700);
    ::chmod(dir.c_str(), 0700);
    const std::string other = "# planted\nnsrun-moved-interface 1\nowner 1\nname lo\nindex 1\nkind \nmac \n"
                              "perm_mac \nmtu 1234\nup 1\nend\n";
    struct Case {
        std::function<std::string()> plant;
        std::string says;
    };
    const std::vector<Case> cases = {
        {[&] { return Plant(dir + "/x-owned", "junk\n", kNobody, 0600); }, ": owned by uid 65534, not root"},
        {[&] { return Plant(dir + "/x-writable", "junk\n", 0, 0606); }, ": writable by its group or others"},
        {[&] { return PlantLink(dir + "/x-link", "/etc/hostname"); }, ": a symbolic link"},
        {[&] { return Plant(dir + "/x-other", other, 0, 0600); }, ": records lo, not x-other"},
    };
    for (const auto& c : cases) {
        const std::string path = c.plant();
        SCOPED_TRACE(path);
        Result r = lab().RunNsrun({"--", "echo", "ran"});
        EXPECT_EQ(r.status, 0) << r.Describe();
        EXPECT_EQ(r.out, "ran\n");
        EXPECT_TRUE(IsOneNsrunErrorLine(r.err));
        EXPECT_THAT(r.err, HasSubstr(path + c.says));
        EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(path))) << "left alone";
        std::filesystem::remove(path);
    }
    // The lab host's lo is as it was: nothing of the planted record was applied.
    Result lo = lab().Host({"ip", "-o", "link", "show", "lo"});
    EXPECT_THAT(lo.out, HasSubstr("mtu 65536")) << lo.out;
}

}  // namespace
}  // namespace nsrun::testing
