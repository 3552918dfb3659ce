#include "cmd/netns_name.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace

std::string netns_path(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

bool netns_name_exists(const std::string& name) {
    struct stat st{};
    return ::lstat(netns_path(name).c_str(), &st) == 0 || errno != ENOENT;
}

void name_netns(const std::string& name, pid_t pid) {
    const std::string doing = "--name " + name;
    const std::string path = netns_path(name);
    make_netns_dir_shared(doing);
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
    if (!file && errno == EEXIST) fail(doing, path + " exists: a network namespace of that name is in use (ip netns)");
    if (!file) throw_errno(doing + ": creating " + path);
    file.reset();
    const std::string source = proc_path(pid, "ns/net");
    if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        int err = errno;
        ::unlink(path.c_str());
        throw_errno(doing + ": mounting the sandbox's network namespace on " + path, err);
    }
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
