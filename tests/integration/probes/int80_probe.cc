// Makes system calls through the i386 ABI (int $0x80) from a 64-bit program, so that the seccomp filter sees
// AUDIT_ARCH_I386 and the i386 call numbers, and prints one line per call: "NAME OK" or "NAME ERRNO-NAME".
// Each call runs in a child of its own, so that one that succeeds (without the filter) changes nothing for the
// next. Pointers would be cut to 32 bits, so every call passes numbers only (or a null pointer), but for
// socketcall, whose arguments sit in a page mapped below 4 GiB.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

long Int80(long nr, long a, long b, long c) {
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

void Try(const char* name, long nr, long a, long b, long c) {
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid == 0) {
        long ret = Int80(nr, a, b, c);
        const char* err = ret < 0 && ret > -4096 ? strerrorname_np(int(-ret)) : nullptr;
        std::printf("%s %s\n", name, ret >= 0 ? "OK" : err ? err : "?");
        std::fflush(stdout);
        ::_exit(0);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
}

}  // namespace

int main() {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // i386 numbers: unshare 310, keyctl 288, mount 21, ioctl 54, socket 359, setns 346, bpf 357, ptrace 26.
    Try("unshare32_newuser", 310, 0x10000000 /* CLONE_NEWUSER */, 0, 0);
    Try("keyctl32", 288, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    Try("mount32", 21, 0, 0, 0);
    Try("ioctl32_tiocsti", 54, null_fd, 0x5412 /* TIOCSTI */, 0);
    Try("socket32_vsock", 359, 40 /* AF_VSOCK */, 1 /* SOCK_STREAM */, 0);
    // socketcall(SYS_SOCKET, {AF_VSOCK, SOCK_STREAM, 0}), as 32-bit glibc makes socket().
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page != MAP_FAILED) {
        auto* args = static_cast<unsigned*>(page);
        args[0] = 40;
        args[1] = 1;
        args[2] = 0;
        Try("socketcall32_vsock", 102, 1 /* SYS_SOCKET */, long(args), 0);
    }
    Try("setns32", 346, -1, 0, 0);
    Try("bpf32", 357, -1, 0, 0);
    Try("ptrace32", 26, 16 /* PTRACE_ATTACH */, 999999, 0);
    Try("getpid32", 20, 0, 0, 0);  // allowed
    std::printf("done\n");
    return 0;
}
