#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>

#include "runtime/child.h"
#include "runtime/exit_status.h"
#include "runtime/id_map.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"

namespace nsrun::runtime {
namespace {

int clone_flags_of(const SandboxSpec& spec) {
    int flags = CLONE_NEWPID | CLONE_NEWNS | spec.extra_namespaces;
    if (spec.new_network) flags |= CLONE_NEWNET;
    if (spec.new_user) flags |= CLONE_NEWUSER;
    if (spec.hostname) flags |= CLONE_NEWUTS;
    return flags;
}

void send_byte(int channel, char byte, const char* doing) {
    ssize_t n;
    do n = ::send(channel, &byte, 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    // EPIPE: the child already failed; its report is waiting on the channel and start() reads it.
    if (n < 0 && errno != EPIPE) throw_errno(doing);
}

}  // namespace

Sandbox::Sandbox(pid_t pid, UniqueFd pidfd, UniqueFd channel)
    : pid_(pid), pidfd_(std::move(pidfd)), channel_(std::move(channel)) {}

Sandbox::Sandbox(Sandbox&& other) noexcept
    : pid_(other.pid_), pidfd_(std::move(other.pidfd_)), channel_(std::move(other.channel_)), reaped_(other.reaped_) {
    other.reaped_ = true;
}

Sandbox::~Sandbox() {
    if (reaped_ || !pidfd_) return;
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(P_PIDFD, id_t(pidfd_.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
}

Sandbox Sandbox::create(const SandboxSpec& spec, StepLog& log) {
    if (spec.argv.empty() || spec.argv[0].empty()) fail("starting the program", "no program given");
    CStrings argv(spec.argv), envp(spec.env);
    std::string search_path = search_path_of(spec.env);

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) throw_errno("creating the sync channel");
    UniqueFd parent_end(pair[0]), child_end(pair[1]);

    ChildPlan plan = program_plan(argv, envp, search_path, child_end.get());
    plan.resolv_conf = spec.resolv_conf ? spec.resolv_conf->c_str() : nullptr;
    plan.resolv_conf_size = spec.resolv_conf ? spec.resolv_conf->size() : 0;
    plan.wait_for_ids = spec.new_user;
    plan.new_network = spec.new_network;
    plan.hostname = spec.hostname ? spec.hostname->c_str() : nullptr;
    plan.seccomp = &spec.seccomp;
    plan.capabilities = spec.capabilities;
    plan.read_only_root = spec.read_only_root;
    plan.mounts = spec.mounts.data();
    plan.mount_count = spec.mounts.size();
    std::string tmpfs_options = "mode=0755";
    if (spec.identity)
        tmpfs_options += ",uid=" + std::to_string(spec.identity->uid) + ",gid=" + std::to_string(spec.identity->gid);
    plan.tmpfs_options = tmpfs_options.c_str();
    char own_binary[4096];
    ssize_t own_binary_size = ::readlink("/proc/self/exe", own_binary, sizeof own_binary - 1);
    if (own_binary_size > 0) own_binary[own_binary_size] = '\0';
    plan.own_binary = own_binary_size > 0 && own_binary[0] == '/' ? own_binary : nullptr;
    plan.switch_identity = spec.identity.has_value();
    plan.set_groups = !spec.new_user;
    if (spec.identity) {
        plan.uid = spec.identity->uid;
        plan.gid = spec.identity->gid;
    }
    plan.chdir = spec.chdir ? spec.chdir->c_str() : nullptr;
    plan.rlimits = spec.rlimits.data();
    plan.rlimit_count = spec.rlimits.size();
    std::vector<int> keep_fds = spec.keep_fds;
    std::sort(keep_fds.begin(), keep_fds.end());
    for (int fd : keep_fds)
        if (::fcntl(fd, F_GETFD) < 0) throw_errno("--keep-fd " + std::to_string(fd));
    plan.keep_fds = keep_fds.data();
    plan.keep_fd_count = keep_fds.size();

    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    int pidfd = -1;
    pid_t pid = clone_with_pidfd(clone_flags_of(spec), &pidfd);
    if (pid < 0) {
        int err = errno;
        if (err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS)
            throw Error("creating the sandbox's namespaces", std::strerror(err) +
                        std::string(err == EPERM ? " (run as root, or allow unprivileged user namespaces)" : ""), err);
        throw_errno("creating the sandbox's namespaces", err);
    }
    if (pid == 0) {
        // The child's copy of nsrun's end must go: if nsrun dies before the child's PR_SET_PDEATHSIG, EOF on the
        // channel is what ends the child, and a copy held here would keep it blocked forever.
        ::close(parent_end.release());
        run_child(plan);
    }
    Sandbox sandbox(pid, UniqueFd(pidfd), std::move(parent_end));
    child_end.reset();
    log.step("cloned the sandbox (pid " + std::to_string(pid) + ")");
    if (spec.new_user) {
        write_id_maps(pid, uid, gid);
        send_byte(sandbox.channel_.get(), kIdsMapped, "releasing the sandbox after writing its id maps");
        log.step("wrote the uid/gid maps");
    }
    return sandbox;
}

void Sandbox::start(StepLog& log) {
    send_byte(channel_.get(), kGo, "releasing the sandbox");
    ChildReport report{};
    size_t got = 0;
    while (got < sizeof report) {
        ssize_t n = ::read(channel_.get(), reinterpret_cast<char*>(&report) + got, sizeof report - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("waiting for the program to start");
        if (n == 0) break;
        got += size_t(n);
    }
    channel_.reset();
    if (got == 0) {
        log.step("program started");
        return;
    }
    if (got < sizeof report) fail("starting the program", "the sandbox ended before it could", ErrorKind::ended);
    throw_report(report);
}

void Sandbox::throw_child_failure() {
    if (!channel_) return;
    ChildReport report{};
    ssize_t n = ::recv(channel_.get(), &report, sizeof report, MSG_DONTWAIT | MSG_WAITALL);
    if (n == ssize_t(sizeof report)) throw_report(report);
}

void Sandbox::throw_report(const ChildReport& received) {
    ChildReport report = received;
    report.doing[sizeof report.doing - 1] = '\0';
    channel_.reset();
    // The child exits right after reporting; reap it so the destructor has nothing to kill.
    wait();
    throw ExecFailure(report.status, report.doing, std::strerror(report.err));
}

int Sandbox::wait() {
    sigset_t waited = forwarded_signals();
    sigaddset(&waited, SIGCHLD);
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_PIDFD, id_t(pidfd_.get()), &info, WEXITED | WNOHANG) < 0 && errno != EINTR)
            throw_errno("waiting for the sandbox");
        if (info.si_pid != 0) {
            reaped_ = true;
            return status_from_siginfo(info.si_code, info.si_status);
        }
        siginfo_t signal{};
        if (::sigwaitinfo(&waited, &signal) < 0) continue;
        if (signal.si_signo == SIGCHLD) continue;
        // A terminal signals its whole foreground process group, the program included: passing it on would
        // deliver it twice.
        if (signal.si_code == SI_KERNEL) continue;
        ::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal.si_signo, nullptr, 0);
    }
}

}  // namespace nsrun::runtime
