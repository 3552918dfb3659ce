#include "netsetup/moved_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/error.h"

namespace nsrun::net {
namespace {

std::string directory_of(uint64_t cookie) { return std::string(kMovedRecordDir) + "/" + std::to_string(cookie); }

void make_directory(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throw_errno("creating " + path);
}

// The record at `path` opened and locked, if its lock is free and it is still the file at `path`.
UniqueFd lock_if_stale(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return {};
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return {};  // a live owner, or another nsrun restoring it
    struct stat held, named;
    // Removed (or replaced) between our open and our lock: its owner finished with it.
    if (::fstat(fd.get(), &held) != 0 || held.st_nlink == 0) return {};
    if (::stat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino || named.st_dev != held.st_dev) return {};
    return fd;
}

}  // namespace

uint64_t network_namespace_cookie() {
    UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket) throw_errno("identifying the host's network namespace");
    uint64_t cookie = 0;
    socklen_t size = sizeof cookie;
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &size) != 0)
        throw_errno("identifying the host's network namespace");
    return cookie;
}

bool any_moved_records() {
    struct stat info;
    return ::stat(kMovedRecordDir, &info) == 0;
}

MovedRecord MovedRecord::create(uint64_t cookie, const std::string& interface, const std::string& text) {
    const std::string doing = "recording the configuration of " + interface;
    const std::string directory = directory_of(cookie);
    // An nsrun removing the last record of this namespace removes the directory too; a few tries outlast that.
    for (int attempt = 0;; ++attempt) {
        make_directory(kStateDirectory, 0755);
        make_directory(kMovedRecordDir, 0700);
        make_directory(directory, 0700);
        // An unnamed file, locked and complete before it gets its name: readers never see a partial record,
        // and none takes a record for stale while its owner is still writing it.
        UniqueFd fd(::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
        if (!fd && errno == ENOENT && attempt < 3) continue;
        if (!fd) throw_errno(doing);
        if (::flock(fd.get(), LOCK_EX) != 0) throw_errno(doing);
        size_t written = 0;
        while (written < text.size()) {
            ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno(doing);
            written += size_t(n);
        }
        UniqueFd dir(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir && errno == ENOENT && attempt < 3) continue;
        if (!dir) throw_errno(doing);
        // linkat never replaces: EEXIST when the interface already has a record.
        int linked = ::linkat(fd.get(), "", dir.get(), interface.c_str(), AT_EMPTY_PATH);
        if (linked != 0 && errno == ENOENT && attempt < 3) continue;
        if (linked != 0) throw_errno(doing);
        return MovedRecord(std::move(fd), directory + "/" + interface);
    }
}

void MovedRecord::remove() noexcept {
    if (!fd_) return;
    ::unlink(path_.c_str());
    fd_.reset();
    // The namespace's directory goes with its last record (ENOTEMPTY otherwise), so directories of namespaces
    // long gone do not pile up.
    ::rmdir(path_.substr(0, path_.rfind('/')).c_str());
}

std::vector<StaleRecord> take_stale_records(uint64_t cookie) {
    std::vector<StaleRecord> stale;
    const std::string directory = directory_of(cookie);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory.c_str()), ::closedir);
    if (!dir) return stale;
    while (dirent* entry = ::readdir(dir.get())) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        std::string path = directory + "/" + name;
        UniqueFd fd = lock_if_stale(path);
        if (!fd) continue;
        std::string text = read_whole(fd.get()).value_or("");
        stale.push_back(StaleRecord{name, std::move(text), MovedRecord(std::move(fd), std::move(path))});
    }
    return stale;
}

std::optional<std::string> live_record(uint64_t cookie, const std::string& interface) {
    std::string path = directory_of(cookie) + "/" + interface;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return std::nullopt;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return std::nullopt;  // nobody holds it: stale
    return read_whole(fd.get());
}

}  // namespace nsrun::net
