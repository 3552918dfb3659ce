#include "netsetup/move/moved_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/error.h"
#include "base/files.h"
#include "base/state_directory.h"
#include "netsetup/move/interface_config.h"

namespace nsrun::net {
namespace {

std::string directory_of(uint64_t cookie) { return std::string(kMovedRecordDir) + "/" + std::to_string(cookie); }

// The records' directory of namespace `cookie`, checked (base/state_directory.h); empty when it is missing.
// Throws Error(path, why) when a part of it cannot be trusted.
UniqueFd records_directory(uint64_t cookie, bool create) {
    if (create) make_state_directory();
    return open_state_directory("moved/" + std::to_string(cookie), create ? 0700 : 0);
}

// The record `name` in `dir` opened and locked, if its lock is free and it is still the file of that name.
// Throws Error(path, why) when the file cannot be trusted, or records another interface than its name says
// (records are untrusted input: one that names a host interface must not get that interface configured).
UniqueFd lock_if_stale(int dir, const std::string& dir_path, const std::string& name) {
    UniqueFd fd = open_state_file(dir, dir_path, name, O_RDONLY);
    if (!fd) return {};
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return {};  // a live owner, or another nsrun restoring it
    struct stat held, named;
    // Removed (or replaced) between our open and our lock: its owner finished with it.
    if (::fstat(fd.get(), &held) != 0 || held.st_nlink == 0) return {};
    // What a record names is acted on (its interface configured, its namespace's processes killed): only one
    // nsrun could have written counts, an 0600 file of nsrun's own user.
    if (!S_ISREG(held.st_mode) || held.st_uid != ::geteuid() || (held.st_mode & 077) != 0) return {};
    if (::fstatat(dir, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_ino != held.st_ino ||
        named.st_dev != held.st_dev)
        return {};
    return fd;
}

void check_names_itself(const std::string& path, const std::string& interface, const std::string& text) {
    auto record = parse_interface_record(text);
    if (record && record->state.name != interface)
        fail(path, "records " + record->state.name + ", not " + interface + ": not nsrun's, left alone");
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
        UniqueFd dir = records_directory(cookie, true);
        if (!dir && errno == ENOENT && attempt < 3) continue;
        if (!dir) throw_errno(doing + ": creating " + directory);
        // An unnamed file, locked and complete before it gets its name: readers never see a partial record,
        // and none takes a record for stale while its owner is still writing it.
        UniqueFd fd(::openat(dir.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
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
    UniqueFd dir = records_directory(cookie, false);
    if (!dir) return stale;
    std::unique_ptr<DIR, int (*)(DIR*)> entries(::fdopendir(::dup(dir.get())), ::closedir);
    if (!entries) return stale;
    while (dirent* entry = ::readdir(entries.get())) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        std::string path = directory + "/" + name;
        UniqueFd fd = lock_if_stale(dir.get(), directory, name);
        if (!fd) continue;
        std::string text = read_whole(fd.get()).value_or("");
        check_names_itself(path, name, text);
        stale.push_back(StaleRecord{name, std::move(text), MovedRecord(std::move(fd), std::move(path))});
    }
    return stale;
}

std::optional<std::string> live_record(uint64_t cookie, const std::string& interface) {
    UniqueFd dir = records_directory(cookie, false);
    if (!dir) return std::nullopt;
    UniqueFd fd = open_state_file(dir.get(), directory_of(cookie), interface, O_RDONLY);
    if (!fd) return std::nullopt;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return std::nullopt;  // nobody holds it: stale
    return read_whole(fd.get());
}

bool interface_held_at(const std::string& held_at) noexcept {
    if (!any_moved_records()) return false;
    try {
        UniqueFd top = open_state_directory("moved", 0);
        if (!top) return errno != ENOENT;
        std::unique_ptr<DIR, int (*)(DIR*)> cookies(::fdopendir(::dup(top.get())), ::closedir);
        if (!cookies) return true;
        while (dirent* cookie = ::readdir(cookies.get())) {
            const std::string name = cookie->d_name;
            if (name == "." || name == "..") continue;
            UniqueFd dir = open_state_directory("moved/" + name, 0);
            if (!dir) continue;
            std::unique_ptr<DIR, int (*)(DIR*)> entries(::fdopendir(::dup(dir.get())), ::closedir);
            if (!entries) return true;
            while (dirent* entry = ::readdir(entries.get())) {
                const std::string file = entry->d_name;
                if (file == "." || file == "..") continue;
                UniqueFd fd = open_state_file(dir.get(), std::string(kMovedRecordDir) + "/" + name, file, O_RDONLY);
                if (!fd) continue;
                auto record = parse_interface_record(read_whole(fd.get()).value_or(""));
                if (record && record->held_at == held_at) return true;
            }
        }
    } catch (const std::exception&) {
        return true;
    }
    return false;
}

}  // namespace nsrun::net
