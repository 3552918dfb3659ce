#include "cmd/netns_name.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/proc_path.h"
#include "base/unique_fd.h"

namespace nsrun::cli {
namespace {

// The steady state costs one mount(2) that changes nothing. Only when /run/netns is not a mount point yet is
// it bound on itself, under iproute2's lock on the directory (parallel first uses would stack bind mounts),
// and put in a peer group of its own, exactly as `ip netns add` does, so the two tools share one set-up.
void make_netns_dir_shared(const std::string& doing) {
    if (::mkdir(kNetnsDir, 0755) < 0 && errno != EEXIST) throw_errno(doing + ": creating " + kNetnsDir);
    if (::mount("", kNetnsDir, nullptr, MS_SHARED, nullptr) == 0) return;
    if (errno != EINVAL) throw_errno(doing + ": making " + std::string(kNetnsDir) + " a shared mount");
    UniqueFd lock(::open(kNetnsDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock) throw_errno(doing + ": opening " + kNetnsDir);
    while (::flock(lock.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno(doing + ": locking " + kNetnsDir);
    if (::mount("", kNetnsDir, nullptr, MS_SHARED | MS_REC, nullptr) == 0) return;  // made while we waited
    if (::mount(kNetnsDir, kNetnsDir, nullptr, MS_BIND | MS_REC, nullptr) < 0 ||
        ::mount("", kNetnsDir, nullptr, MS_PRIVATE | MS_REC, nullptr) < 0 ||
        ::mount("", kNetnsDir, nullptr, MS_SHARED | MS_REC, nullptr) < 0)
        throw_errno(doing + ": making " + std::string(kNetnsDir) + " a shared mount point");
}

bool is_nsfs(const std::string& path) {
    struct statfs fs{};
    return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}


void mount_name(const std::string& name, const std::string& source) {
    const std::string doing = "--name " + name;
    const std::string path = netns_path(name);
    make_netns_dir_shared(doing);
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
    if (!file && errno == EEXIST) fail(doing, path + " exists: a network namespace of that name is in use (ip netns)");
    if (!file) throw_errno(doing + ": creating " + path);
    file.reset();
    if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        int err = errno;
        ::unlink(path.c_str());
        throw_errno(doing + ": mounting the sandbox's network namespace on " + path, err);
    }
}

// The mount namespace of nsrun's outermost ancestor that it may inspect (pid 1's, on an ordinary machine),
// when that is not `ours`: the one nsrun was started from, before `ip netns exec` or `unshare -m` made it a
// namespace of its own.
UniqueFd outermost_mount_namespace(uint64_t ours) {
    UniqueFd found;
    pid_t pid = ::getppid();
    for (int depth = 0; depth < 64 && pid > 0; ++depth) {
        UniqueFd ns(::open(proc_path(pid, "ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns) break;  // not ours to enter (another user's, or a supervisor above a container)
        struct stat st{};
        if (::fstat(ns.get(), &st) == 0 && uint64_t(st.st_ino) != ours) found = std::move(ns);
        else if (found) found.reset();  // an ancestor shares ours again: nsrun's own is the host's after all
        UniqueFd status(::open(proc_path(pid, "status").c_str(), O_RDONLY | O_CLOEXEC));
        char text[2048];
        ssize_t n = status ? ::read(status.get(), text, sizeof text - 1) : -1;
        if (n <= 0 || pid == 1) break;
        text[n] = '\0';
        const char* line = std::strstr(text, "\nPPid:");
        pid = line ? pid_t(std::atoi(line + 6)) : 0;
    }
    return found;
}

// mount(2) only attaches in the caller's own mount namespace, and setns() into another one is refused to a
// process with threads: a forked child enters the host's and mounts there, the namespace given by descriptor.
void mount_name_in(int mount_namespace, const std::string& name, pid_t pid) {
    const std::string doing = "--name " + name;
    const std::string source = proc_path(pid, "ns/net");
    UniqueFd netns(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw_errno(doing + ": opening " + source);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw_errno(doing + ": creating a pipe");
    UniqueFd report(pipe_fds[0]), report_end(pipe_fds[1]);
    pid_t child = ::fork();
    if (child < 0) throw_errno(doing + ": forking");
    if (child == 0) {
        report.reset();
        std::string why;
        int err = 0;
        try {
            if (::setns(mount_namespace, CLONE_NEWNS) < 0) throw_errno(doing + ": entering the host's mount namespace");
            mount_name(name, "/proc/self/fd/" + std::to_string(netns.get()));
        } catch (const Error& error) {
            why = error.doing() + "\n" + error.why();
            err = error.err();
        }
        if (!why.empty()) {
            why = std::to_string(err) + "\n" + why;
            ssize_t ignored = ::write(report_end.get(), why.data(), why.size());
            (void)ignored;
        }
        _exit(why.empty() ? 0 : 1);
    }
    report_end.reset();
    std::string text;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(report.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) text.append(buffer, size_t(n));
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    size_t first = text.find('\n'), second = text.find('\n', first + 1);
    if (second != std::string::npos)
        throw Error(text.substr(first + 1, second - first - 1), text.substr(second + 1), std::atoi(text.c_str()));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(doing, "naming the namespace in the host's mount namespace failed");
}

}  // namespace

std::string netns_path(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

bool netns_name_exists(const std::string& name) {
    struct stat st{};
    return ::lstat(netns_path(name).c_str(), &st) == 0 || errno != ENOENT;
}

void name_netns(const std::string& name, pid_t pid) {
    // Where ip netns exec looks from anywhere: the host's mount namespace, whose /run/netns is shared with
    // every mount namespace made from it later and with the slaves made before (ip netns exec's own, unshare
    // -m's default). A name mounted only in a private mount namespace nsrun happens to run in would read
    // "Invalid argument" everywhere else.
    struct stat ours{};
    if (::stat("/proc/self/ns/mnt", &ours) < 0) throw_errno("--name " + name + ": reading nsrun's mount namespace");
    if (UniqueFd host = outermost_mount_namespace(uint64_t(ours.st_ino))) {
        mount_name_in(host.get(), name, pid);
        return;
    }
    mount_name(name, proc_path(pid, "ns/net"));
}

void remove_netns_name(const std::string& name, uint64_t netns) noexcept {
    const std::string path = netns_path(name);
    // Bounded: a name mounted more than once (by hand) loses one of our mounts per round.
    for (int round = 0; round < 4; ++round) {
        struct stat st{};
        if (::lstat(path.c_str(), &st) < 0) return;
        if (is_nsfs(path)) {
            if (st.st_ino != netns) return;  // someone else's namespace under that name
            ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
        } else if (!S_ISREG(st.st_mode) || st.st_size != 0) {
            return;
        }
        if (::unlink(path.c_str()) == 0 || errno != EBUSY) return;
    }
}

}  // namespace nsrun::cli
