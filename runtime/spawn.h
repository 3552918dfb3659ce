// Parent-side pieces shared by Sandbox::create and Sandbox::join: everything the child needs is prepared
// before clone, so the child never allocates.
#pragma once

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "runtime/child.h"

namespace nsrun::runtime {

inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The signals nsrun passes on to the program.
inline sigset_t forwarded_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, sig);
    return set;
}

// argv/envp as the NULL-terminated arrays execve wants, built before clone so the child need not allocate.
struct CStrings {
    explicit CStrings(const std::vector<std::string>& strings) {
        for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
        pointers.push_back(nullptr);
    }
    std::vector<char*> pointers;
};

inline std::string search_path_of(const std::vector<std::string>& env) {
    for (const auto& entry : env)
        if (entry.starts_with("PATH=")) return entry.substr(5);
    return kDefaultPath;
}

// --keep-fd's descriptors, sorted as ChildPlan::keep_fds wants them; each must be open before nsrun opens
// anything of its own for the child, which could otherwise take that number and be passed on.
inline std::vector<int> checked_keep_fds(std::vector<int> fds) {
    std::sort(fds.begin(), fds.end());
    for (int fd : fds)
        if (::fcntl(fd, F_GETFD) < 0) throw_errno("--keep-fd " + std::to_string(fd));
    return fds;
}

// The part of a ChildPlan every start shares. The forwarded signals and SIGCHLD are blocked from here on:
// the supervisor and the sandbox's init take them with sigwaitinfo(), so none is lost between clone() and the
// first wait, and none kills nsrun with its default action; the program gets the caller's mask back.
inline ChildPlan program_plan(const CStrings& argv, const CStrings& envp, const std::string& search_path,
                              int channel) {
    ChildPlan plan{};
    plan.supervised = forwarded_signals();
    sigset_t blocked = plan.supervised;
    sigaddset(&blocked, SIGCHLD);
    if (::sigprocmask(SIG_BLOCK, &blocked, &plan.program_sigmask) < 0) throw_errno("blocking signals");
    plan.argv = argv.pointers.data();
    plan.envp = envp.pointers.data();
    plan.search_path = search_path.c_str();
    plan.channel_fd = channel;
    return plan;
}

// clone3 gives a pidfd, so every later signal and wait names this child and never a recycled pid.
inline pid_t clone_with_pidfd(int flags, int* pidfd) {
    clone_args args{};
    args.flags = uint64_t(flags) | CLONE_PIDFD;
    args.pidfd = uint64_t(uintptr_t(pidfd));
    args.exit_signal = SIGCHLD;
    return pid_t(::syscall(SYS_clone3, &args, sizeof args));
}

}  // namespace nsrun::runtime
