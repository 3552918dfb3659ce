// The second seed's management namespace, for real: a "management LAN" (lab.sh add-ns: namespace NAME-lan,
// eth0 192.0.2.1/24, linked to the lab host's x-lan) from which an admin logs in to an sshd that
// `nsrun --net-only --net=move:x-lan` runs on the host's management interface, and manages the host.
//
// x-lan's own configuration on the lab host (what must come back): 192.0.2.254/24, up. In the sandbox it is
// 192.0.2.10/24 with a default route via 192.0.2.1, exactly the README's line with the lab's interface name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr const char* kIf = "x-lan";

class MgmtSshdTest : public LabTest {
protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        ASSERT_TRUE(std::filesystem::exists(kSshd)) << "scripts/install-deps.sh installs openssh-server";
        Result lan = lab().AddNs("lan", "192.0.2.254/24", "192.0.2.1/24");
        ASSERT_EQ(lan.status, 0) << lan.Describe();
        host_ = lab().name() + "-host";
        name_ = lab().name() + "-m";
        dir_ = lab().dir() + "/ssh";
        std::filesystem::create_directories(dir_);
        // sshd's privilege-separation directory (the package makes it at boot).
        std::filesystem::create_directories("/run/sshd");
        ::chmod("/run/sshd", 0755);
        for (const char* key : {"host_key", "admin_key"}) {
            Result r = RunCmd({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", dir_ + "/" + key}, 30s);
            ASSERT_EQ(r.status, 0) << r.Describe();
        }
        std::filesystem::copy_file(dir_ + "/admin_key.pub", dir_ + "/authorized_keys");
        std::ofstream(dir_ + "/sshd_config") << "ListenAddress 192.0.2.10\n"
                                             << "HostKey " << dir_ << "/host_key\n"
                                             << "AuthorizedKeysFile " << dir_ << "/authorized_keys\n"
                                             << "PidFile none\n"
                                             << "UsePAM no\n"
                                             << "PasswordAuthentication no\n"
                                             << "KbdInteractiveAuthentication no\n"
                                             << "PermitRootLogin prohibit-password\n"
                                             << "StrictModes no\n"
                                             << "LogLevel VERBOSE\n";
        before_ = Addresses();
        ASSERT_THAT(before_, HasSubstr("192.0.2.254/24")) << before_;
    }

    void TearDown() override {
        sshd_.reset();
        // A failed test may leave the name behind; lab.sh down does not know it.
        RunCmd({"ip", "netns", "del", name_}, 10s);
        LabTest::TearDown();
    }

    std::string Addresses() { return lab().Host({"ip", "-o", "-4", "addr", "show", "dev", kIf}).out; }

    // README's management line, with the lab's interface.
    void StartSshd() {
        sshd_.emplace(lab().Nsrun({"--net-only", "--name=" + name_, std::string("--net=move:") + kIf,
                                   "--address=192.0.2.10/24", "--gateway=192.0.2.1", "--", kSshd, "-D", "-e", "-f",
                                   dir_ + "/sshd_config"}));
        bool listening = Eventually(
            [&] {
                return RunCmd(lab().InNs("lan", {"timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/192.0.2.10/22"}), 5s)
                           .status == 0;
            },
            15s);
        ASSERT_TRUE(listening) << sshd_->Wait(1s).Describe();
    }

    // ssh -tt from the management LAN as root with the admin's key.
    Argv Ssh(const std::string& command) {
        return lab().InNs("lan", {"ssh", "-tt", "-i", dir_ + "/admin_key", "-o", "BatchMode=yes", "-o",
                                  "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                                  "ConnectTimeout=10", "-o", "LogLevel=ERROR", "root@192.0.2.10", command});
    }

    std::string host_, name_, dir_, before_;
    std::optional<Process> sshd_;
};

TEST_F(MgmtSshdTest, AnAdminOnTheManagementLanLogsInAndManagesTheHost) {
    // A process of the host's, outside the sandbox: the admin must see it and be able to signal it.
    const std::string mark = "600." + UniqueToken();
    Process host_process({"sleep", mark});
    StartSshd();
    if (HasFatalFailure()) return;
    EXPECT_THAT(Addresses(), Not(HasSubstr("192.0.2.254"))) << "the interface is the sandbox's while sshd runs";

    Result session = RunCmd(Ssh("tty; id -u; ps -o pid= -o args= -p " + std::to_string(host_process.pid()) +
                                "; kill -TERM " + std::to_string(host_process.pid()) + " && exit 7"),
                            60s);
    EXPECT_EQ(session.status, 7) << "the session's exit status comes back: " << session.Describe();
    EXPECT_THAT(session.out, HasSubstr("/dev/pts/")) << "a terminal (-tt): " << session.out;
    EXPECT_THAT(session.out, HasSubstr("\n0\r\n")) << "root on the host, as ip netns exec: " << session.out;
    EXPECT_THAT(session.out, HasSubstr("sleep " + mark)) << "the host's process is visible: " << session.out;
    Result killed = host_process.Wait(10s);
    EXPECT_EQ(killed.status, 128 + SIGTERM) << "the session signalled the host's process: " << killed.Describe();

    // A session still open when sshd stops must not keep the namespace, and so the interface.
    Process open_session(Ssh("echo logged-in; exec sleep 300"));
    ASSERT_TRUE(open_session.WaitForOutput("logged-in", 60s)) << open_session.Wait(1s).Describe();
    sshd_->Signal(SIGTERM);
    Result stopped = sshd_->Wait(20s);
    EXPECT_FALSE(stopped.timed_out) << stopped.Describe();
    Result closed = open_session.Wait(20s);
    EXPECT_FALSE(closed.timed_out) << "the open session ended with sshd: " << closed.Describe();

    EXPECT_THAT(Addresses(), HasSubstr("192.0.2.254/24")) << "the interface is back on the host with its address";
    EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name_)) << "the name goes with the sandbox";
    EXPECT_TRUE(ProcessesMentioning(mark).empty());
}

TEST_F(MgmtSshdTest, AWrongKeyIsRefusedAndSshdKeepsServing) {
    StartSshd();
    if (HasFatalFailure()) return;
    Result r = RunCmd(lab().InNs("lan", {"ssh", "-tt", "-i", dir_ + "/host_key", "-o", "BatchMode=yes", "-o",
                                         "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                                         "ConnectTimeout=10", "root@192.0.2.10", "true"}),
                      60s);
    EXPECT_EQ(r.status, 255) << r.Describe();
    Result good = RunCmd(Ssh("exit 0"), 60s);
    EXPECT_EQ(good.status, 0) << good.Describe();
    sshd_->Signal(SIGTERM);
    EXPECT_FALSE(sshd_->Wait(20s).timed_out);
    EXPECT_THAT(Addresses(), HasSubstr("192.0.2.254/24"));
}

}  // namespace
}  // namespace nsrun::testing
