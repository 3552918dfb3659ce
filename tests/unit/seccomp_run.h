// Running a probe under a seccomp filter in a child process, for the seccomp unit tests.
#pragma once

#include <seccomp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "runtime/seccomp_filter.h"

namespace nsrun::runtime {

constexpr int kInstallFailed = 250;
constexpr int kSignalled = 1000;  // + signal number

// Runs `probe` in a child under `filter`; returns what it returned (0..255), 250 if the filter could not be
// installed, or 1000 + the signal that killed the child.
inline int run_filtered(const SeccompFilter& filter, const std::function<int()>& probe) {
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        // The exit_group system call itself, not _exit(): a sanitizer's _exit() makes calls a strict filter refuses.
        if (filter.install() < 0) ::syscall(SYS_exit_group, kInstallFailed);
        ::syscall(SYS_exit_group, probe() & 0xff);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return kSignalled + WTERMSIG(status);
    return WEXITSTATUS(status);
}

inline int errno_of(long result) { return result == -1 ? errno : 0; }

// An i386 system call from this 64-bit process: the kernel and seccomp see AUDIT_ARCH_I386.
inline long int80(long nr, long a0 = 0, long a1 = 0, long a2 = 0) {
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

inline int i386_nr(const char* name) { return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name); }

}  // namespace nsrun::runtime
