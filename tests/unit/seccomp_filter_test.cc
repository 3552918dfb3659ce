// The seccomp profile parser, and the default profile at work: each behavioural test forks a child, installs the
// filter there, makes the system call and reports its errno through the exit status.
#include "runtime/seccomp_filter.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "base/error.h"
#include "gtest/gtest.h"
#include "seccomp_run.h"

extern char** environ;

namespace nsrun::runtime {
namespace {

// socketcall(SYS_SOCKET, {family, SOCK_STREAM, 0}) through int $0x80, the way 32-bit glibc creates sockets; the
// arguments must sit below 4 GiB, as i386 pointers do. A probe for run(): 0 when a socket came back, or the errno.
std::function<int()> socketcall_socket(int family) {
    return [family] {
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (page == MAP_FAILED) return 100;
        auto* args = static_cast<uint32_t*>(page);
        args[0] = uint32_t(family);
        args[1] = SOCK_STREAM;
        args[2] = 0;
        long fd = int80(102 /* i386 socketcall */, 1 /* SYS_SOCKET */, long(args));
        return fd >= 0 ? 0 : int(-fd);
    };
}

int x32_nr(const char* name) { return seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, name); }

std::string error_of(std::string_view text, std::string_view origin = "p") {
    try {
        SeccompFilter::from_text(text, origin);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

bool is_root() { return ::geteuid() == 0; }

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

TEST(SeccompOption, Values) {
    EXPECT_FALSE(seccomp_from_option("off").enabled());
    EXPECT_EQ(seccomp_from_option("off").program(), nullptr);
    EXPECT_TRUE(seccomp_from_option("default").enabled());
    EXPECT_THROW(seccomp_from_option(""), Error);
    try {
        seccomp_from_option("/nonexistent/profile");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--seccomp /nonexistent/profile: No such file or directory");
    }
    try {
        seccomp_from_option("/tmp");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "--seccomp /tmp: is a directory");
    }
}

TEST(SeccompProfile, DefaultCoversThreeAbis) {
    SeccompFilter f = SeccompFilter::default_profile();
    ASSERT_TRUE(f.enabled());
    const sock_fprog* prog = f.program();
    ASSERT_NE(prog, nullptr);
    EXPECT_GT(prog->len, 100);
    EXPECT_LE(prog->len, BPF_MAXINSNS);
    // Compiled once: later calls share the program.
    EXPECT_EQ(SeccompFilter::default_profile().program(), prog);

    bool x86_64 = false, i386 = false, x32_fence = false, i386_mount = false;
    for (unsigned i = 0; i < prog->len; ++i) {
        const sock_filter& insn = prog->filter[i];
        if (BPF_CLASS(insn.code) != BPF_JMP) continue;
        // Every x32 number (bit 30 set) goes to the bad-ABI action: one comparison instead of x32 rules.
        x32_fence |= BPF_OP(insn.code) == BPF_JGE && insn.k == 0x40000000;
        if (BPF_OP(insn.code) != BPF_JEQ) continue;
        x86_64 |= insn.k == AUDIT_ARCH_X86_64;
        i386 |= insn.k == AUDIT_ARCH_I386;
        i386_mount |= insn.k == uint32_t(i386_nr("mount"));
    }
    EXPECT_TRUE(x86_64);
    EXPECT_TRUE(i386);
    EXPECT_TRUE(x32_fence);
    EXPECT_TRUE(i386_mount);
}

TEST(SeccompProfile, GoodFile) {
    SeccompFilter f = SeccompFilter::from_text(
        "# comment\n"
        "\n"
        "   default allow      # trailing comment\n"
        "deny mount\n"
        "deny keyctl errno ENOSYS\n"
        "deny add_key errno 38\n"
        "kill reboot\n"
        "deny ioctl arg1 masked 0xffffffff == 0x5412\n"
        "deny ioctl arg1 masked 0xFFFFFFFF == 0x541C\n"
        "deny socket arg0 == 40 arg1 != 1\n"
        "deny getpriority arg0 < 1 arg1 <= 2 arg2 > 3 arg3 >= 4\n"
        "deny personality arg0 not-in 0 8 0xffffffff\n"
        "deny setpriority arg2 in 1 2 3\r\n"
        "\tdeny\tvm86\t\n",
        "test");
    EXPECT_TRUE(f.enabled());

    EXPECT_TRUE(SeccompFilter::from_text("", "empty").enabled());  // allows everything
    EXPECT_TRUE(SeccompFilter::from_text("default errno EPERM\nallow read\nallow write arg0 == 1\n", "t").enabled());
    EXPECT_TRUE(SeccompFilter::from_text("deny mount\ndefault kill\n", "t").enabled());
    EXPECT_TRUE(SeccompFilter::from_text("default deny errno ENOSYS\nallow read\n", "t").enabled());
    EXPECT_TRUE(SeccompFilter::from_text("default deny\nallow read\n", "t").enabled());
    // Rules for one call with conditions are alternatives when they share an action.
    EXPECT_TRUE(SeccompFilter::from_text("deny clone arg0 masked 1 == 1\ndeny clone arg0 masked 2 == 2\n", "t").enabled());
}

TEST(SeccompProfile, ErrorsNameFileAndLine) {
    EXPECT_EQ(error_of("# c\ndefault allow\ndeny foo\n", "FILE"), "--seccomp FILE:3: unknown syscall 'foo'");
    EXPECT_EQ(error_of("permit read"), "--seccomp p:1: unknown word 'permit' (default, allow, deny, kill)");
    EXPECT_EQ(error_of("\n\ndeny\n"), "--seccomp p:3: expected a system call name at the end of the line");
    EXPECT_EQ(error_of("default allow\ndefault kill"), "--seccomp p:2: second 'default' (the first is on line 1)");
    EXPECT_EQ(error_of("default maybe"), "--seccomp p:1: unknown default action 'maybe' (allow, deny, errno E, kill)");
    EXPECT_EQ(error_of("default allow now"), "--seccomp p:1: unexpected 'now'");
    EXPECT_EQ(error_of("default errno"), "--seccomp p:1: expected an errno name or number at the end of the line");
    EXPECT_EQ(error_of("deny read errno EWHAT"), "--seccomp p:1: unknown errno 'EWHAT'");
    EXPECT_EQ(error_of("deny read errno 4096"), "--seccomp p:1: errno '4096' is out of range (0 to 4095)");
    EXPECT_EQ(error_of("allow read errno 1"), "--seccomp p:1: expected a condition (arg0 ... arg5), not 'errno'");
    EXPECT_EQ(error_of("deny read arg6 == 1"), "--seccomp p:1: expected a condition (arg0 ... arg5), not 'arg6'");
    EXPECT_EQ(error_of("deny read arg0 = 1"), "--seccomp p:1: unknown operator '='");
    EXPECT_EQ(error_of("deny read arg0 == 1x"), "--seccomp p:1: bad number '1x' (a value)");
    EXPECT_EQ(error_of("deny read arg0 == 0x"), "--seccomp p:1: bad number '0x' (a value)");
    EXPECT_EQ(error_of("deny read arg0 == -1"), "--seccomp p:1: bad number '-1' (a value)");
    EXPECT_EQ(error_of("deny read arg0 == 18446744073709551616"),
              "--seccomp p:1: bad number '18446744073709551616' (a value)");
    EXPECT_EQ(error_of("deny read arg0 == 0xffffffffffffffff").substr(0, 8), "no error");
    EXPECT_EQ(error_of("deny read arg0 =="), "--seccomp p:1: expected a value at the end of the line");
    EXPECT_EQ(error_of("deny ioctl arg1 masked 0xff = 1"), "--seccomp p:1: expected '==' after the mask, not '='");
    EXPECT_EQ(error_of("deny read arg0 == 1 arg0 == 2"), "--seccomp p:1: arg0 is compared twice in one rule");
    EXPECT_EQ(error_of("deny read arg0 in"), "--seccomp p:1: expected a value after 'in'");
    EXPECT_EQ(error_of("deny read arg0 in 0x100000000"),
              "--seccomp p:1: 'in' compares the low 32 bits of the argument: '4294967296' does not fit");
    EXPECT_EQ(error_of("deny read arg1 == 1 arg0 in 1"),
              "--seccomp p:1: an 'in', 'not-in' or 'has-any' condition must be the only one of its rule");
    EXPECT_EQ(error_of("deny clone arg0 has-any 0\n"),
              "--seccomp p:1: 'has-any' needs a mask with at least one bit set");
    EXPECT_EQ(error_of("deny clone arg0 has-any 1 2\n"),
              "--seccomp p:1: expected a condition (arg0 ... arg5), not '2'");
    EXPECT_EQ(error_of("deny read arg0 in 1 arg1"), "--seccomp p:1: bad number 'arg1' (a value)");
    EXPECT_EQ(error_of("allow read"), "--seccomp p:1: the rule does what the default action does");
    EXPECT_EQ(error_of("deny read\ndefault deny"), "--seccomp p:1: the rule does what the default action does");
    EXPECT_EQ(error_of("deny read\n#\ndeny read errno ENOSYS"),
              "--seccomp p:3: a second rule for 'read' (line 1); a rule without conditions, or with 'in'/'not-in'/'has-any', "
              "must be the only one");
    EXPECT_EQ(error_of("deny read arg0 == 1\ndeny read"),
              "--seccomp p:2: a second rule for 'read' (line 1); a rule without conditions, or with 'in'/'not-in'/'has-any', "
              "must be the only one");
    EXPECT_EQ(error_of("deny read arg0 == 1\nkill read arg0 == 2"),
              "--seccomp p:2: the rules for 'read' must all have the same action (line 1)");
    // An identical rule twice is harmless: libseccomp merges them.
    EXPECT_EQ(error_of("deny read arg0 == 1\ndeny read arg0 == 1"), "no error");
    EXPECT_EQ(error_of(std::string_view("deny read\0x\n", 12)), "--seccomp p:1: unknown syscall 'read\\x00x'");
    EXPECT_EQ(error_of("deny \x1b[31m"), "--seccomp p:1: unknown syscall '\\x1b[31m'");
}

TEST(SeccompProfile, SizeCap) {
    std::string big(SeccompFilter::kMaxProfileBytes + 1, '#');
    EXPECT_EQ(error_of(big, "big"), "--seccomp big: larger than 1 MiB");
    std::string many;
    for (int i = 0; i <= 1024; ++i) many += "deny ioctl arg1 == " + std::to_string(i) + "\n";
    EXPECT_EQ(error_of(many, "many"), "--seccomp many:1025: more than 1024 rules");
    // Too many instructions for the kernel: 'not-in' lists on 100 system calls.
    std::string lists;
    for (int nr = 0; nr < 100; ++nr) {
        char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
        ASSERT_NE(name, nullptr);
        lists += "deny " + std::string(name) + " arg0 not-in";
        std::free(name);
        for (int v = 0; v < 20; ++v) lists.append(" ").append(std::to_string(v));
        lists += "\n";
    }
    EXPECT_NE(error_of(lists, "lists").find("more than the kernel's limit of 4096"), std::string::npos)
        << error_of(lists, "lists");
}

TEST(SeccompProfile, FromFileReportsPathAndLine) {
    char path[] = "/tmp/nsrun-seccomp-test-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const char text[] = "default allow\ndeny mount\ndeny nosuchcall\n";
    ASSERT_EQ(::write(fd, text, sizeof text - 1), ssize_t(sizeof text - 1));
    ::close(fd);
    try {
        SeccompFilter::from_file(path);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "--seccomp " + std::string(path) + ":3: unknown syscall 'nosuchcall'");
    }
    fd = ::open(path, O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "deny mount\n", 11), 11);
    ::close(fd);
    SeccompFilter f = seccomp_from_option(path);
    ::unlink(path);
    EXPECT_TRUE(f.enabled());
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::mount("none", "/nonexistent", "tmpfs", 0, nullptr)); }), EPERM);
}

// ---------------------------------------------------------------------------------------------------------------
// The default profile at work.

class DefaultProfile : public ::testing::Test {
protected:
    SeccompFilter filter = SeccompFilter::default_profile();
    int run(const std::function<int()>& probe) { return run_filtered(filter, probe); }
    int run_unfiltered(const std::function<int()>& probe) { return run_filtered(SeccompFilter::off(), probe); }
};

TEST_F(DefaultProfile, OrdinaryProgramsRun) {
    EXPECT_EQ(run([] { return ::getpid() > 0 ? 0 : 1; }), 0);
    // fork() + exec
    EXPECT_EQ(run([] {
                  pid_t pid = ::fork();
                  if (pid == 0) {
                      ::execl("/bin/true", "true", nullptr);
                      _exit(127);
                  }
                  int status = 0;
                  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return 1;
                  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
              }),
              0);
    // posix_spawn and pthread_create try clone3 first and fall back to clone on ENOSYS.
    EXPECT_EQ(run([] {
                  pid_t pid;
                  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                                  const_cast<char*>("echo hi | grep -q hi && exit 7"), nullptr};
                  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) != 0) return 1;
                  int status = 0;
                  if (::waitpid(pid, &status, 0) != pid) return 2;
                  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
              }),
              7);
    EXPECT_EQ(run([] {
                  pthread_t thread;
                  if (pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0)
                      return 1;
                  return pthread_join(thread, nullptr);
              }),
              0);
    // Harmless unshare flags and clone without namespace flags.
    EXPECT_EQ(run([] { return errno_of(::unshare(CLONE_FILES | CLONE_FS)); }), 0);
    EXPECT_EQ(run([] { return errno_of(::socket(AF_INET, SOCK_STREAM, 0) < 0 ? -1 : 0); }), 0);
    EXPECT_EQ(run([] { return errno_of(::socket(AF_UNIX, SOCK_STREAM, 0) < 0 ? -1 : 0); }), 0);
    EXPECT_EQ(run([] { return errno_of(int80(i386_nr("getpid")) == ::getpid() ? 0 : -1); }), 0);
}

TEST_F(DefaultProfile, RefusesNamespaces) {
    EXPECT_EQ(run([] { return errno_of(::unshare(CLONE_NEWUSER)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::unshare(CLONE_NEWNET)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::unshare(CLONE_NEWNS)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::unshare(CLONE_FILES | CLONE_NEWTIME)); }), EPERM);
    EXPECT_EQ(run([] {
                  long r = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
                  if (r == 0) _exit(0);  // not refused: this is the new child
                  return errno_of(r);
              }),
              EPERM);
    EXPECT_EQ(run([] {
                  clone_args args{};
                  args.exit_signal = SIGCHLD;
                  long r = ::syscall(SYS_clone3, &args, sizeof args);
                  if (r == 0) _exit(0);
                  return errno_of(r);
              }),
              ENOSYS);
    EXPECT_EQ(run([] { return errno_of(::setns(0, 0)); }), EPERM);
    // Every namespace flag on its own, on both ABIs; clone(CLONE_NEWTIME's bits) is an exit signal, not a flag.
    for (unsigned long flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                               CLONE_NEWNET, CLONE_NEWTIME}) {
        EXPECT_EQ(run([flag] { return errno_of(::syscall(SYS_unshare, flag)); }), EPERM) << flag;
        EXPECT_EQ(run([flag] { return int(-int80(i386_nr("unshare"), long(flag))); }), EPERM) << flag;
        if (flag == CLONE_NEWTIME) continue;
        EXPECT_EQ(run([flag] { return int(-int80(i386_nr("clone"), long(flag | SIGCHLD))); }), EPERM) << flag;
        EXPECT_EQ(run([flag] {
                      long r = ::syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);
                      if (r == 0) _exit(0);
                      return errno_of(r);
                  }),
                  EPERM)
            << flag;
    }
    if (is_root()) {
        EXPECT_EQ(run_unfiltered([] { return errno_of(::unshare(CLONE_NEWUSER)); }), 0);
    }
}

TEST_F(DefaultProfile, RefusesKernelInterfaces) {
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_add_key, "user", "x", "y", 1, -3)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_bpf, -1, nullptr, 0)); }), EPERM);
    EXPECT_EQ(run_unfiltered([] { return errno_of(::syscall(SYS_bpf, -1, nullptr, 0)); }), EINVAL);
    EXPECT_EQ(run([] { return errno_of(::mount("none", "/nonexistent", "tmpfs", 0, nullptr)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::umount2("/nonexistent", 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_io_uring_setup, 1, nullptr)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_userfaultfd, 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_process_vm_readv, 1, nullptr, 0, nullptr, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] {
                  timespec now{};
                  ::clock_gettime(CLOCK_REALTIME, &now);
                  return errno_of(::clock_settime(CLOCK_REALTIME, &now));
              }),
              EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_finit_module, -1, "", 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_socket, AF_VSOCK | (1UL << 32), SOCK_STREAM, 0)); }), EPERM);
}

TEST_F(DefaultProfile, PersonalityOnlyHarmlessValues) {
    EXPECT_EQ(run([] { return errno_of(::personality(0xffffffff)); }), 0);
    EXPECT_EQ(run([] { return errno_of(::personality(PER_LINUX32)); }), 0);
    EXPECT_EQ(run([] { return errno_of(::personality(PER_LINUX)); }), 0);
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_personality, 0x20008)); }), 0);
    EXPECT_EQ(run([] { return errno_of(::personality(ADDR_NO_RANDOMIZE)); }), EPERM);
    EXPECT_EQ(run([] { return errno_of(::personality(READ_IMPLIES_EXEC)); }), EPERM);
    // The kernel reads 32 bits; a value with high bits set is refused outright.
    EXPECT_EQ(run([] { return errno_of(::syscall(SYS_personality, 8UL | (1UL << 32))); }), EPERM);
    // i386
    EXPECT_EQ(run([] { return int(-int80(i386_nr("personality"), ADDR_NO_RANDOMIZE)); }), EPERM);
    EXPECT_EQ(run([] { return int80(i386_nr("personality"), 0xffffffff) >= 0 ? 0 : 1; }), 0);
}

TEST_F(DefaultProfile, RefusesTerminalInjection) {
    auto inject = [](unsigned long request) {
        return [request] {
            int master = ::posix_openpt(O_RDWR | O_NOCTTY);
            if (master < 0) return 100;
            char c = 'x';
            return errno_of(::syscall(SYS_ioctl, master, request, &c));
        };
    };
    EXPECT_EQ(run(inject(TIOCSTI)), EPERM);
    EXPECT_EQ(run(inject(TIOCSTI | (1UL << 32))), EPERM);  // CVE-2019-10063
    EXPECT_EQ(run(inject(TIOCLINUX)), EPERM);
    // Without the filter the high bits are ignored by the kernel: that is why the mask matters.
    if (is_root()) {
        EXPECT_EQ(run_unfiltered(inject(TIOCSTI | (1UL << 32))), 0);
    }
    EXPECT_EQ(run([] {
                  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
                  termios t{};
                  return master < 0 ? 100 : errno_of(::ioctl(master, TCGETS, &t));
              }),
              0);
    EXPECT_EQ(run([] {
                  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
                  char c = 'x';
                  return master < 0 ? 100 : int(-int80(i386_nr("ioctl"), master, TIOCSTI, long(&c)));
              }),
              EPERM);
}

TEST_F(DefaultProfile, RefusesOtherAbis) {
    // i386 unshare (310) through int $0x80.
    ASSERT_EQ(i386_nr("unshare"), 310);
    EXPECT_EQ(run([] { return int(-int80(310, CLONE_NEWUSER)); }), EPERM);
    EXPECT_EQ(run([] { return int(-int80(i386_nr("keyctl"), 0, -3)); }), EPERM);
    EXPECT_EQ(run([] { return int(-int80(i386_nr("mount"), 0, 0, 0)); }), EPERM);
    EXPECT_EQ(run([] { return int(-int80(i386_nr("clone"), CLONE_NEWNET | SIGCHLD)); }), EPERM);
    EXPECT_EQ(run([] { return int(-int80(i386_nr("clock_settime64"), CLOCK_REALTIME, 0)); }), EPERM);
    EXPECT_EQ(run([] { return int(-int80(359 /* i386 socket */, AF_VSOCK, SOCK_STREAM)); }), EPERM);
    // The i386 multiplexer reads socket()'s arguments from memory the filter cannot see: refused whole.
    EXPECT_EQ(run(socketcall_socket(AF_VSOCK)), ENOSYS);
    EXPECT_EQ(run(socketcall_socket(AF_INET)), ENOSYS);
    EXPECT_EQ(run_unfiltered(socketcall_socket(AF_INET)), 0);
    if (is_root()) {
        EXPECT_EQ(run_unfiltered([] { return int(-int80(310, CLONE_NEWUSER)); }), 0);
    }
    // x32: every call kills the process, before the kernel looks at the number (this kernel may not offer the
    // ABI at all), the harmless ones and those of nsrun's own prefix (socket, personality) included.
    EXPECT_EQ(run([] { return errno_of(::syscall(x32_nr("unshare"), CLONE_NEWUSER)); }), kSignalled + SIGSYS);
    EXPECT_EQ(run([] { return errno_of(::syscall(x32_nr("keyctl"), 0, -3)); }), kSignalled + SIGSYS);
    EXPECT_EQ(run([] { return errno_of(::syscall(x32_nr("getpid"))); }), kSignalled + SIGSYS);
    EXPECT_EQ(run([] { return errno_of(::syscall(x32_nr("socket"), AF_VSOCK, SOCK_STREAM, 0)); }), kSignalled + SIGSYS);
}

TEST(SeccompProfileFile, ActionsWork) {
    SeccompFilter f = SeccompFilter::from_text(
        "deny getppid errno 77\n"
        "kill getpgid\n"
        "deny getpriority arg0 in 1 2\n"
        "deny setpgid arg0 not-in 0\n"
        "deny getsid arg0 has-any 0x100000010\n",
        "t");
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getsid, 0)); }), 0);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getsid, 0x30)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getsid, 1UL << 32)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return int(-int80(i386_nr("getsid"), 0x10)); }), EPERM);
    // Compared with the unfiltered answer, not with > 0: getsid() is 0 when the session leader lives outside this
    // pid namespace, as it does when the suite runs in a container.
    EXPECT_EQ(run_filtered(f, [] { return int80(i386_nr("getsid"), 0) == ::getsid(0) ? 0 : 1; }), 0);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getppid)); }), 77);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getpgid, 0)); }), kSignalled + SIGSYS);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getpriority, 2, 0)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getpriority, 0, 0)); }), 0);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_setpgid, 0, 0)); }), 0);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_setpgid, 1UL << 32, 0)); }), EPERM);

    SeccompFilter strict = SeccompFilter::from_text("default errno 13\nallow exit_group\nallow exit\n", "t");
    EXPECT_EQ(run_filtered(strict, [] { return errno_of(::syscall(SYS_getppid)); }), 13);
}

// A prefix too long for 8-bit jump offsets is laid out with unconditional jumps and still decides right.
TEST(SeccompProfileFile, LongPrefixWorks) {
    std::string text;
    for (const char* name : {"getpriority", "setpgid", "getpgid", "getsid", "sched_getscheduler", "getppid"}) {
        text += std::string("deny ") + name + " arg0 not-in";
        for (int v = 0; v < 64; ++v) text.append(" ").append(std::to_string((uint64_t(v % 3) << 32) + uint64_t(v) + 1000));
        text += "\n";
    }
    text += "deny getuid arg0 in 7 8\n";
    SeccompFilter f = SeccompFilter::from_text(text, "t");
    ASSERT_GT(f.program()->len, 600);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getpriority, 0, 0)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_setpgid, 1003, 0)); }), ESRCH);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_setpgid, (1UL << 32) + 1001, 0)); }), ESRCH);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_setpgid, 1001, 0)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getuid, 8)); }), EPERM);
    EXPECT_EQ(run_filtered(f, [] { return errno_of(::syscall(SYS_getuid, 9)); }), 0);
    EXPECT_EQ(run_filtered(f, [] { return int(-int80(i386_nr("setpgid"), 1003, 0)); }), ESRCH);
    EXPECT_EQ(run_filtered(f, [] { return int(-int80(i386_nr("setpgid"), 1001, 0)); }), EPERM);
}

TEST(SeccompFilterOff, InstallDoesNothing) {
    SeccompFilter off = SeccompFilter::off();
    EXPECT_EQ(run_filtered(off, [] { return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 ? 0 : 1; }), 0);
    SeccompFilter on = SeccompFilter::default_profile();
    EXPECT_EQ(run_filtered(on, [] { return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1; }), 0);
    // Copies share the program.
    SeccompFilter copy = on;
    EXPECT_EQ(copy.program(), on.program());
}

// The same program as C++ source, to paste into runtime/seccomp_filter.cc when the profile changes.
std::string as_source(const sock_fprog* prog) {
    std::string out = "constexpr sock_filter kDefaultProgram[] = {\n";
    char item[64];
    for (unsigned i = 0; i < prog->len; ++i) {
        const sock_filter& insn = prog->filter[i];
        std::snprintf(item, sizeof item, "%s{0x%02x, %u, %u, 0x%08x},", i % 4 ? " " : "    ", unsigned(insn.code),
                      unsigned(insn.jt), unsigned(insn.jf), insn.k);
        out += item;
        if (i % 4 == 3 || i + 1 == prog->len) out += "\n";
    }
    return out + "};\n";
}

// default_profile() uses a program compiled ahead of time (compiling it is a noticeable part of a launch);
// it must be what the profile text compiles to.
TEST(SeccompProfile, EmbeddedDefaultProgramMatchesTheText) {
    SeccompFilter fresh = SeccompFilter::compile_default_profile();
    const sock_fprog* compiled = fresh.program();
    const sock_fprog* embedded = SeccompFilter::default_profile().program();
    bool same = compiled->len == embedded->len &&
                std::memcmp(compiled->filter, embedded->filter, compiled->len * sizeof(sock_filter)) == 0;
    EXPECT_TRUE(same) << "kDefaultProgram in runtime/seccomp_filter.cc is stale; replace it with:\n"
                      << as_source(compiled);
}

}  // namespace
}  // namespace nsrun::runtime
