#include "runtime/child.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/child_report.h"
#include "runtime/exit_status.h"
#include "runtime/mounts.h"
#include "runtime/net_only.h"

namespace nsrun::runtime {
namespace {

// Blocks for one byte from the parent; the parent's death (EOF) ends the child quietly.
void expect_byte(int channel, char wanted) {
    char byte = 0;
    ssize_t n;
    do n = ::read(channel, &byte, 1); while (n < 0 && errno == EINTR);
    if (n != 1 || byte != wanted) _exit(kStatusNsrunError);
}

int bring_up_loopback() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    int err = 0;
    if (::ioctl(fd, SIOCGIFFLAGS, &request) < 0) err = errno;
    request.ifr_flags = short(request.ifr_flags | IFF_UP);
    if (!err && ::ioctl(fd, SIOCSIFFLAGS, &request) < 0) err = errno;
    ::close(fd);
    return err;
}

int write_file(const char* path, const char* text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t size = std::strlen(text);
    int err = ::write(fd, text, size) == ssize_t(size) ? 0 : errno;
    ::close(fd);
    return err;
}

// execvp() without allocation; remembers EACCES the way execvp does, so a program that exists but cannot be
// run is reported as such even when a later PATH entry has no such file.
int exec_program(const ChildPlan& plan) {
    const char* name = plan.argv[0];
    if (std::strchr(name, '/')) {
        ::execve(name, plan.argv, plan.envp);
        return errno;
    }
    if (*name == '\0') return ENOENT;
    int result = ENOENT;
    const char* dir = plan.search_path;
    for (;;) {
        const char* end = std::strchr(dir, ':');
        size_t dir_len = end ? size_t(end - dir) : std::strlen(dir);
        char candidate[4096];
        size_t name_len = std::strlen(name);
        if (dir_len + 1 + name_len < sizeof candidate) {
            size_t n = 0;
            if (dir_len == 0) candidate[n++] = '.';
            std::memcpy(candidate + n, dir, dir_len);
            n += dir_len;
            candidate[n++] = '/';
            std::memcpy(candidate + n, name, name_len + 1);
            ::execve(candidate, plan.argv, plan.envp);
            int err = errno;
            // A PATH directory the program's user cannot search (root's /root/bin, seen by a mapped block) is
            // one with no such program, as for a shell: only a file found and refused counts as EACCES.
            if (err == EACCES) {
                candidate[n - 1] = '\0';
                if (::faccessat(AT_FDCWD, candidate, X_OK, AT_EACCESS) < 0) err = ENOENT;
            }
            if (err == EACCES) result = EACCES;
            else if (err != ENOENT && err != ENOTDIR) return err;
        }
        if (!end) return result;
        dir = end + 1;
    }
}

// `who` names the switch in a failure report: "--user" or the user namespace's root.
void switch_identity(int channel, const char* who, bool set_groups, uid_t uid, gid_t gid) {
    if (set_groups && ::setgroups(1, &gid) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, who, ": setting the supplementary groups");
    // Keep the permitted set across setuid so the bounding set can still be emptied and --cap-add kept.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, who, ": keeping capabilities across setuid");
    if (::setresgid(gid, gid, gid) < 0) report_and_exit(channel, kStatusNsrunError, errno, who, ": setting the group id");
    if (::setresuid(uid, uid, uid) < 0) report_and_exit(channel, kStatusNsrunError, errno, who, ": setting the user id");
}

// Every descriptor but 0, 1, 2 and the --keep-fd ones closes at exec: nothing nsrun or its caller holds
// reaches the program.
void close_descriptors_on_exec(const ChildPlan& plan) {
    unsigned next = 3;
    for (size_t i = 0; i <= plan.keep_fd_count; ++i) {
        unsigned kept = i < plan.keep_fd_count ? unsigned(plan.keep_fds[i]) : ~0U;
        if (kept > next && ::syscall(SYS_close_range, next, kept == ~0U ? ~0U : kept - 1, CLOSE_RANGE_CLOEXEC) < 0)
            report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "marking inherited descriptors close-on-exec");
        if (kept == ~0U) break;
        if (::fcntl(int(kept), F_SETFD, 0) < 0)
            report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "--keep-fd");
        next = kept + 1;
    }
}

// A uid change resets the parent-death signal, and sets dumpability from fs.suid_dumpable: a joining process
// must again die with nsrun and stay non-dumpable until exec. If nsrun died in between, its end of the
// channel is closed.
void rearm_after_identity_change(const ChildPlan& plan) {
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "setting the parent-death signal");
    char byte;
    if (::recv(plan.channel_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) _exit(kStatusNsrunError);
}

[[noreturn]] void run_program(const ChildPlan& plan) {
    int channel = plan.channel_fd;
    for (size_t i = 0; i < plan.rlimit_count; ++i)
        if (::setrlimit(__rlimit_resource(plan.rlimits[i].resource), &plan.rlimits[i].value) < 0)
            report_and_exit(channel, kStatusNsrunError, errno, "--rlimit");
    // Back in nsrun's process group: a terminal's job control and signals reach the program as ever.
    if (plan.net_only && ::setpgid(0, plan.program_group) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "joining nsrun's process group");
    if (plan.switch_identity) switch_identity(channel, "--user", plan.set_groups, plan.uid, plan.gid);
    if (plan.joining && plan.switch_identity) rearm_after_identity_change(plan);
    if (plan.chdir && ::chdir(plan.chdir) < 0) report_and_exit(channel, kStatusNsrunError, errno, "--chdir ", plan.chdir);
    const char* failed_step = "dropping capabilities";
    // --net-only's program is trusted with the caller's privileges, as under ip netns exec.
    if (!plan.net_only && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "setting no_new_privs");
    if (!plan.net_only)
        if (int err = apply_capabilities(plan.capabilities, &failed_step); err < 0)
            report_and_exit(channel, kStatusNsrunError, -err, failed_step);
    close_descriptors_on_exec(plan);
    if (::sigprocmask(SIG_SETMASK, &plan.program_sigmask, nullptr) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "restoring the signal mask");
    // Last before exec, so that nsrun's own set-up needs nothing the filter refuses.
    if (int err = plan.net_only ? 0 : plan.seccomp->install(); err < 0)
        report_and_exit(channel, kStatusNsrunError, -err, "installing the seccomp filter");
    int err = exec_program(plan);
    report_and_exit(channel, status_from_exec_errno(err), err, "executing ", plan.argv[0]);
}

int start_program(void* plan) { run_program(*static_cast<const ChildPlan*>(plan)); }

// pid 1 of the sandbox: the kernel kills everything in the pid namespace when it exits, so it lives exactly as
// long as the program, reaps orphans, and passes on the signals nsrun forwards.
[[noreturn]] void run_init(const ChildPlan& plan, pid_t program) {
    // Init needs no descriptor at all; whatever nsrun's caller left open must not stay reachable in here.
    ::syscall(SYS_close_range, 0U, ~0U, 0U);
    // No capabilities and no_new_privs, like the program. No seccomp filter of its own: it is non-dumpable and
    // holds nothing, so the program cannot reach it, and a second filter would be a cost on every launch for
    // no protection.
    // --net-only's keeper keeps them: it must kill what the program's sessions run as, whoever that is.
    const char* ignored_step;
    if (!plan.net_only) {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        apply_capabilities(CapabilitySet{}, &ignored_step);
    }

    sigset_t waited = plan.supervised;
    sigaddset(&waited, SIGCHLD);
    for (;;) {
        siginfo_t info{};
        if (::sigwaitinfo(&waited, &info) < 0) continue;
        if (plan.net_only && supervisor_gone(plan)) end_net_only(plan, kStatusNsrunError);
        if (info.si_signo == SIGCHLD) {
            int wait_status = 0;
            pid_t done;
            while ((done = ::waitpid(-1, &wait_status, WNOHANG)) > 0)
                if (done == program) {
                    if (plan.net_only) end_net_only(plan, status_from_wait(wait_status));
                    _exit(status_from_wait(wait_status));
                }
        } else if (info.si_code != SI_KERNEL) {
            // A terminal's signals (SI_KERNEL) reach the program directly: it is in the terminal's process group.
            ::kill(program, info.si_signo);
        }
    }
}

}  // namespace

void run_child(const ChildPlan& plan) noexcept {
    int channel = plan.channel_fd;
    if (::prctl(PR_SET_PDEATHSIG, plan.net_only ? kKeeperDeathSignal : SIGKILL, 0, 0, 0) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "setting the parent-death signal");
    // Orphans of the program come to the keeper (as to an init), which reaps them and kills them at the end.
    // In a process group of its own, so that a kill of nsrun's whole group leaves it to clean up.
    if (plan.net_only && (supervisor_gone(plan) || ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ||
                          ::setpgid(0, 0) < 0))
        _exit(kStatusNsrunError);
    // Only after the parent has written the id maps: a non-dumpable process's /proc files belong to root.
    if (plan.wait_for_ids) expect_byte(channel, kIdsMapped);
    // Until now the child is the host's uid 0, which the block does not map: owner checks on the host's files
    // would still see root. Root of the namespace keeps every capability in it (the mounts need them).
    if (plan.become_root) {
        switch_identity(plan.channel_fd, "becoming root of the sandbox's user namespace", true, 0, 0);
        rearm_after_identity_change(plan);
    }
    // The program must not get at nsrun's memory or /proc/1/exe through init (CVE-2019-5736).
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (plan.new_network) {
        if (int err = bring_up_loopback())
            report_and_exit(channel, kStatusNsrunError, err, "bringing up the sandbox's loopback");
        // The port space is the sandbox's own, so its servers may bind 80 or 53 without any capability, as in
        // Docker. Before the mounts: the view makes /proc/sys read-only (a net sysctl is the writer's netns's
        // whichever /proc it is reached through). Not for --net-only: its program has the capabilities, and its
        // users' sessions get the host's rule.
        if (int err = plan.net_only ? 0 : write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"))
            report_and_exit(channel, kStatusNsrunError, err, "opening the sandbox's low ports");
    }
    if (plan.net_only) prepare_net_only_mounts(plan);
    else prepare_mounts(plan);
    if (plan.hostname && ::sethostname(plan.hostname, std::strlen(plan.hostname)) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "setting the hostname");
    expect_byte(channel, kGo);

    // The program process shares init's memory until it execs (CLONE_VM | CLONE_VFORK, as posix_spawn does):
    // no page tables to copy, and init sleeps until the exec, so nothing of its own runs on the shared memory.
    // The program process only makes system calls and writes its report, on a stack of its own.
    alignas(64) static char program_stack[64 * 1024];
    pid_t program = ::clone(start_program, program_stack + sizeof program_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                            const_cast<ChildPlan*>(&plan));
    if (program < 0) report_and_exit(channel, kStatusNsrunError, errno, "starting the program");
    run_init(plan, program);
}

void run_joined_child(const ChildPlan& plan) noexcept {
    int channel = plan.channel_fd;
    // Already non-dumpable (inherited from nsrun); kept so until exec, whatever happens to nsrun's setting.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "setting the parent-death signal");
    if (::syscall(SYS_setns, plan.join_pidfd, plan.join_namespaces) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "joining the sandbox's namespaces");
    expect_byte(channel, kGo);
    run_program(plan);
}

}  // namespace nsrun::runtime
