// Tries each system call the default seccomp profile refuses, with arguments that would make it fail harmlessly
// (EFAULT, EINVAL, ENOENT, EBADF, ESRCH, ...) or do nothing if it were allowed, and prints one line per call:
//   NAME ERRNO-NAME   (or "NAME OK" when it succeeded)
// Each call runs in a child of its own. Run it with the capabilities the calls need (--cap-add=sys_admin,...):
// then EPERM can only come from the filter.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

void Report(const char* name, long ret) {
    if (ret >= 0) std::printf("%s OK\n", name);
    else std::printf("%s %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
}

// Makes the call in a child of its own, so that a call that succeeds (without the filter) changes nothing for
// the calls after it: a new user namespace, for one, would take the capabilities the others need.
template <typename Call>
void Isolated(const char* name, Call call) {
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid == 0) {
        errno = 0;
        long ret = call();
        Report(name, ret);
        std::fflush(stdout);
        ::_exit(0);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
}

#define TRY(name, ...) Isolated(name, [&] { return ::syscall(__VA_ARGS__); })

}  // namespace

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const char* missing = "/nonexistent-nsrun-probe";
    // Namespaces.
    TRY("unshare_newuser", SYS_unshare, CLONE_NEWUSER);
    TRY("unshare_newns", SYS_unshare, CLONE_NEWNS);
    TRY("unshare_newnet", SYS_unshare, CLONE_NEWNET);
    TRY("unshare_newtime", SYS_unshare, CLONE_NEWTIME);
    TRY("unshare_newuser_high_bits", SYS_unshare, 0x100000000L | CLONE_NEWUSER);
    Isolated("clone_newuser", [] {
        // A child that exits at once if the call were allowed.
        long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0L, 0L, 0L, 0L);
        if (pid == 0) ::syscall(SYS_exit_group, 0);
        int saved = errno;
        if (pid > 0) ::waitpid(int(pid), nullptr, 0);
        errno = saved;
        return pid;
    });
    TRY("clone3", SYS_clone3, 0L, 0L);
    TRY("setns", SYS_setns, -1, 0);
    // Keyrings.
    TRY("keyctl", SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
    TRY("add_key", SYS_add_key, 0L, 0L, 0L, 0L, 0L);
    TRY("request_key", SYS_request_key, 0L, 0L, 0L, 0L);
    // Large kernel surfaces.
    TRY("bpf", SYS_bpf, -1, 0L, 0);
    TRY("perf_event_open", SYS_perf_event_open, 0L, 0, -1, -1, 0);
    TRY("userfaultfd", SYS_userfaultfd, 0xffffffffL);
    TRY("io_uring_setup", SYS_io_uring_setup, 0, 0L);
    TRY("fanotify_init", SYS_fanotify_init, 0xffffffffL, 0);
    // The mount tree.
    TRY("mount", SYS_mount, "none", missing, "tmpfs", 0L, 0L);
    TRY("umount2", SYS_umount2, missing, 0);
    TRY("pivot_root", SYS_pivot_root, missing, missing);
    TRY("open_tree", SYS_open_tree, AT_FDCWD, missing, 0);
    TRY("move_mount", SYS_move_mount, -1, "", -1, "", 0);
    TRY("fsopen", SYS_fsopen, "nonexistent-nsrun-fs", 0);
    TRY("fsconfig", SYS_fsconfig, -1, 0, 0L, 0L, 0);
    TRY("fsmount", SYS_fsmount, -1, 0, 0);
    TRY("fspick", SYS_fspick, AT_FDCWD, missing, 0);
    TRY("mount_setattr", SYS_mount_setattr, -1, "", 0, 0L, 0L);
    // Kernel code.
    TRY("init_module", SYS_init_module, 0L, 0L, "");
    TRY("finit_module", SYS_finit_module, -1, "", 0);
    TRY("delete_module", SYS_delete_module, "nonexistent_nsrun_probe", 0);
    TRY("kexec_file_load", SYS_kexec_file_load, -1, -1, 0L, 0L, 0xffffffffL);
    // Other processes and files by handle.
    TRY("open_by_handle_at", SYS_open_by_handle_at, -1, 0L, 0);
    TRY("ptrace", SYS_ptrace, 16 /* PTRACE_ATTACH */, 999999, 0L, 0L);
    TRY("process_vm_readv", SYS_process_vm_readv, 999999, 0L, 0L, 0L, 0L, 0L);
    TRY("process_vm_writev", SYS_process_vm_writev, 999999, 0L, 0L, 0L, 0L, 0L);
    TRY("pidfd_getfd", SYS_pidfd_getfd, -1, 0, 0);
    // Machine-wide state.
    TRY("reboot", SYS_reboot, 0, 0, 0, 0L);  // bad magic: EINVAL if it were allowed
    TRY("swapon", SYS_swapon, missing, 0);
    TRY("swapoff", SYS_swapoff, missing);
    TRY("acct", SYS_acct, missing);
    TRY("syslog", SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0L, 0);
    TRY("iopl", SYS_iopl, 4);
    TRY("ioperm", SYS_ioperm, 0x10000L, 1L, 1);
    TRY("quotactl", SYS_quotactl, 0, 0L, 0, 0L);
    TRY("settimeofday", SYS_settimeofday, 0L, 0L);  // both NULL: does nothing if allowed
    TRY("clock_settime", SYS_clock_settime, CLOCK_REALTIME, 0L);
    TRY("clock_adjtime", SYS_clock_adjtime, CLOCK_REALTIME, 0L);
    TRY("adjtimex", SYS_adjtimex, 0L);
    // Personalities other than Docker's few; the query stays allowed.
    TRY("personality_addr_no_randomize", SYS_personality, 0x0040000L);
    TRY("personality_query", SYS_personality, 0xffffffffL);
    // Typing into the terminal, here on a descriptor that is no terminal (ENOTTY if it were allowed).
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    char c = 'x';
    int count = 0;
    TRY("ioctl_tiocsti", SYS_ioctl, null_fd, long(TIOCSTI), &c);
    TRY("ioctl_tiocsti_high_bits", SYS_ioctl, null_fd, (1L << 32) | long(TIOCSTI), &c);
    TRY("ioctl_tioclinux", SYS_ioctl, null_fd, long(TIOCLINUX), &c);
    TRY("ioctl_fionread", SYS_ioctl, null_fd, long(FIONREAD), &count);  // allowed: ENOTTY or OK
    // vsock: a way to the hypervisor's host that no network namespace confines.
    TRY("socket_vsock", SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
    TRY("socket_vsock_high_bits", SYS_socket, (1L << 32) | AF_VSOCK, SOCK_STREAM, 0);
    TRY("socket_unix", SYS_socket, AF_UNIX, SOCK_STREAM, 0);  // allowed
    std::printf("done\n");
    return 0;
}
