#include "runtime/exit_status.h"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>

namespace nsrun::runtime {

int status_from_wait(int wait_status) noexcept {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return kStatusNsrunError;
}

int status_from_siginfo(int code, int status) noexcept {
    if (code == CLD_EXITED) return status;
    if (code == CLD_KILLED || code == CLD_DUMPED) return 128 + status;
    return kStatusNsrunError;
}

int status_from_exec_errno(int err) noexcept {
    return err == ENOENT || err == ENOTDIR ? kStatusNotFound : kStatusNotExecutable;
}

}  // namespace nsrun::runtime
