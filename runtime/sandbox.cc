#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <climits>
#include <string>

#include "runtime/bind_sources.h"
#include "runtime/child.h"
#include "runtime/exit_status.h"
#include "runtime/id_map.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"

namespace nsrun::runtime {
namespace {

int clone_flags_of(const SandboxSpec& spec) {
    if (spec.net_only) return CLONE_NEWNS | CLONE_NEWNET;
    int flags = CLONE_NEWPID | CLONE_NEWNS | spec.extra_namespaces;
    if (spec.new_network) flags |= CLONE_NEWNET;
    if (spec.id_mapping != IdMapping::host) flags |= CLONE_NEWUSER;
    if (spec.hostname) flags |= CLONE_NEWUTS;
    // SysV IPC and the hostname are the host's otherwise: root's shared memory, sethostname().
    if (spec.own_view) flags |= CLONE_NEWIPC | CLONE_NEWUTS;
    return flags;
}

// Each --dev-bind source must be a device node, named by its real path: the sandbox's /dev covers the host's
// before the child binds it, so a symbolic link into /dev would no longer lead there.
std::vector<MountRequest> resolved_device_binds(const std::vector<MountRequest>& requests) {
    std::vector<MountRequest> resolved = requests;
    for (MountRequest& request : resolved) {
        char path[PATH_MAX];
        struct stat st{};
        if (!::realpath(request.source.c_str(), path) || ::stat(path, &st) < 0)
            throw_errno("--dev-bind " + request.source);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) fail("--dev-bind " + request.source, "not a device node");
        request.source = path;
    }
    return resolved;
}

// The terminal on the caller's 0, 1 or 2 by its path below /dev, "" when there is none: the child binds it
// by path, since a descriptor opened in the host's mount namespace cannot be cloned from the sandbox's.
std::string callers_terminal() {
    char path[PATH_MAX];
    for (int fd = 0; fd <= 2; ++fd)
        if (::ttyname_r(fd, path, sizeof path) == 0 && std::strncmp(path, "/dev/", 5) == 0) return path + 5;
    return "";
}

void send_byte(int channel, char byte, const char* doing) {
    ssize_t n;
    do n = ::send(channel, &byte, 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    // EPIPE: the child already failed; its report is waiting on the channel and start() reads it.
    if (n < 0 && errno != EPIPE) throw_errno(doing);
}

// What --net-only means is fixed (runtime/net_only.h): a spec that asks for more isolation as well is a
// front end's mistake, never silently half-applied.
void check_net_only(const SandboxSpec& spec) {
    if (!spec.new_network) fail("--net-only", "needs a network namespace of its own");
    if (spec.id_mapping != IdMapping::host || spec.identity) fail("--net-only", "the program runs as the caller, in no user namespace");
    if (spec.own_view || spec.extra_namespaces || spec.hostname || spec.read_only_root || !spec.mounts.empty() ||
        !spec.device_binds.empty() || spec.capabilities.bits || spec.seccomp.enabled())
        fail("--net-only", "only the network is isolated (no other namespace, view, capability set or filter)");
}

}  // namespace

Sandbox::Sandbox(pid_t pid, UniqueFd pidfd, UniqueFd channel)
    : pid_(pid), pidfd_(std::move(pidfd)), channel_(std::move(channel)) {}

Sandbox::Sandbox(Sandbox&& other) noexcept
    : pid_(other.pid_), id_block_(std::move(other.id_block_)), pidfd_(std::move(other.pidfd_)),
      channel_(std::move(other.channel_)), reaped_(other.reaped_) {
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
    if (spec.net_only) check_net_only(spec);
    CStrings argv(spec.argv), envp(spec.env);
    std::string search_path = search_path_of(spec.env);

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) throw_errno("creating the sync channel");
    UniqueFd parent_end(pair[0]), child_end(pair[1]);

    ChildPlan plan = program_plan(argv, envp, search_path, child_end.get());
    plan.resolv_conf = spec.resolv_conf ? spec.resolv_conf->c_str() : nullptr;
    plan.resolv_conf_size = spec.resolv_conf ? spec.resolv_conf->size() : 0;
    plan.wait_for_ids = spec.id_mapping != IdMapping::host;
    plan.become_root = spec.id_mapping == IdMapping::block;
    plan.new_network = spec.new_network;
    plan.hostname = spec.hostname ? spec.hostname->c_str() : nullptr;
    plan.seccomp = &spec.seccomp;
    plan.capabilities = spec.capabilities;
    plan.read_only_root = spec.read_only_root;
    plan.mounts = spec.mounts.data();
    plan.mount_count = spec.mounts.size();
    // Root opens the sources in its own view now; without root the child does, before it mounts anything.
    BindSources binds(spec.mounts, ::geteuid() == 0, spec.own_view);
    // Only a block's trees wait for its user namespace; the others must be ready before the child uses them.
    if (spec.id_mapping != IdMapping::block) binds.finish(-1);
    plan.mount_steps = binds.steps();
    plan.own_view = spec.own_view;
    plan.new_cgroup_namespace = spec.extra_namespaces & CLONE_NEWCGROUP;
    std::vector<MountRequest> device_binds = resolved_device_binds(spec.device_binds);
    plan.device_binds = device_binds.data();
    plan.device_bind_count = device_binds.size();
    std::string terminal = spec.own_view ? callers_terminal() : "";
    plan.terminal = terminal.empty() ? nullptr : terminal.c_str();
    std::string tmpfs_options = "mode=0755";
    if (spec.identity)
        tmpfs_options += ",uid=" + std::to_string(spec.identity->uid) + ",gid=" + std::to_string(spec.identity->gid);
    plan.tmpfs_options = tmpfs_options.c_str();
    char own_binary[4096];
    ssize_t own_binary_size = ::readlink("/proc/self/exe", own_binary, sizeof own_binary - 1);
    if (own_binary_size > 0) own_binary[own_binary_size] = '\0';
    plan.own_binary = own_binary_size > 0 && own_binary[0] == '/' ? own_binary : nullptr;
    plan.switch_identity = spec.identity.has_value();
    // A user namespace of a rootless caller denies setgroups(); a block's keeps it, and the child uses it to
    // drop the host's supplementary groups.
    plan.set_groups = spec.id_mapping != IdMapping::self;
    if (spec.identity) {
        plan.uid = spec.identity->uid;
        plan.gid = spec.identity->gid;
    }
    plan.chdir = spec.chdir ? spec.chdir->c_str() : nullptr;
    // The inherited working directory is the host's mount of it, which a --bind or --tmpfs over it would not
    // replace: the program enters it again by name, in its own view.
    std::string working_directory;
    if (!spec.chdir)
        if (char* cwd = ::getcwd(nullptr, 0)) {
            working_directory = cwd;
            std::free(cwd);
        }
    plan.working_directory = working_directory.empty() ? nullptr : working_directory.c_str();
    plan.rlimits = spec.rlimits.data();
    plan.rlimit_count = spec.rlimits.size();
    std::vector<int> keep_fds = checked_keep_fds(spec.keep_fds);
    plan.keep_fds = keep_fds.data();
    plan.keep_fd_count = keep_fds.size();
    plan.net_only = spec.net_only;
    plan.supervisor = ::getpid();
    plan.program_group = ::getpgrp();

    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    std::optional<IdBlock> block;
    if (spec.id_mapping == IdMapping::block) {
        block.emplace(IdBlock::take(spec.id_pool));
        log.step("took the id block " + std::to_string(block->base()));
    }
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
    if (block) sandbox.id_block_.emplace(std::move(*block));
    child_end.reset();
    log.step("cloned the sandbox (pid " + std::to_string(pid) + ")");
    if (spec.id_mapping == IdMapping::self) write_id_maps(pid, uid, gid);
    if (spec.id_mapping == IdMapping::block) {
        uint32_t base = sandbox.id_block_->base();
        write_block_maps(pid, base);
        if (binds.any_bind()) {
            // Files the caller owns are root's inside, and what root writes there is the caller's: for root
            // itself that is the sandbox's own map.
            UniqueFd userns = spec.bind_owner_uid == 0 && spec.bind_owner_gid == 0
                                  ? open_user_namespace(pid)
                                  : bind_user_namespace(base, spec.bind_owner_uid, spec.bind_owner_gid);
            binds.finish(userns.get());
            log.step("idmapped the binds");
        }
    }
    if (spec.id_mapping != IdMapping::host) {
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
