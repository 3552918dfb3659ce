#include "base/netns_members.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace nsrun {
namespace {

// "PID/ns/net" for a /proc entry name that is a pid; false for any other entry.
bool namespace_link(const char* name, char (&path)[32], pid_t* pid) {
    long value = 0;
    size_t n = 0;
    for (; name[n]; ++n) {
        if (name[n] < '0' || name[n] > '9' || n > 9) return false;
        value = value * 10 + (name[n] - '0');
        path[n] = name[n];
    }
    if (n == 0) return false;
    const char suffix[] = "/ns/net";
    for (size_t i = 0; i < sizeof suffix; ++i) path[n + i] = suffix[i];
    *pid = pid_t(value);
    return true;
}

}  // namespace

int kill_netns_members(int netns_fd, pid_t spared) noexcept {
    struct stat target{};
    if (::fstat(netns_fd, &target) < 0) return -errno;
    int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return -errno;
    const pid_t self = ::getpid();
    int signalled = 0;
    // A killed process keeps its namespace until it has exited, so a later pass may meet it again.
    for (int pass = 0; pass < 200; ++pass) {
        bool found = false;
        ::lseek(proc, 0, SEEK_SET);
        alignas(8) char buffer[8192];
        long size;
        while ((size = ::syscall(SYS_getdents64, proc, buffer, sizeof buffer)) > 0) {
            for (long offset = 0; offset < size;) {
                auto* entry = reinterpret_cast<struct dirent64*>(buffer + offset);
                offset += entry->d_reclen;
                char path[32];
                pid_t pid;
                struct stat member{};
                if (!namespace_link(entry->d_name, path, &pid) || pid == self || pid == spared) continue;
                if (::fstatat(proc, path, &member, 0) < 0) continue;  // gone, or a zombie
                if (member.st_dev != target.st_dev || member.st_ino != target.st_ino) continue;
                ::kill(pid, SIGKILL);
                ++signalled;
                found = true;
            }
        }
        if (!found) break;
        timespec pause{0, 1'000'000};
        ::nanosleep(&pause, nullptr);
    }
    ::close(proc);
    return signalled;
}

}  // namespace nsrun
