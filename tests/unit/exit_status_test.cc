#include "runtime/exit_status.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>

namespace nsrun::runtime {
namespace {

TEST(ExitStatus, FollowsDockerRun) {
    EXPECT_EQ(status_from_wait(3 << 8), 3);                    // exit(3)
    EXPECT_EQ(status_from_wait(SIGTERM), 128 + SIGTERM);       // killed by SIGTERM
    EXPECT_EQ(status_from_wait(SIGSEGV | 0x80), 128 + SIGSEGV);  // core dumped
    EXPECT_EQ(status_from_siginfo(CLD_EXITED, 0), 0);
    EXPECT_EQ(status_from_siginfo(CLD_KILLED, SIGKILL), 137);
    EXPECT_EQ(status_from_siginfo(CLD_DUMPED, SIGABRT), 134);
}

TEST(ExitStatus, ExecFailures) {
    EXPECT_EQ(status_from_exec_errno(ENOENT), 127);
    EXPECT_EQ(status_from_exec_errno(ENOTDIR), 127);
    EXPECT_EQ(status_from_exec_errno(EACCES), 126);
    EXPECT_EQ(status_from_exec_errno(ENOEXEC), 126);
}

}  // namespace
}  // namespace nsrun::runtime
