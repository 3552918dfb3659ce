// Parent-side pieces shared by Sandbox::create and Sandbox::join: everything the child needs is prepared
// before clone, so the child never allocates.
#pragma once

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

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

// clone3 gives a pidfd, so every later signal and wait names this child and never a recycled pid.
inline pid_t clone_with_pidfd(int flags, int* pidfd) {
    clone_args args{};
    args.flags = uint64_t(flags) | CLONE_PIDFD;
    args.pidfd = uint64_t(uintptr_t(pidfd));
    args.exit_signal = SIGCHLD;
    return pid_t(::syscall(SYS_clone3, &args, sizeof args));
}

}  // namespace nsrun::runtime
