#include "cmd/registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "base/error.h"
#include "base/files.h"
#include "base/proc_path.h"
#include "base/state_directory.h"
#include "cmd/netns_name.h"
#include "netsetup/move/moved_records.h"
#include "netsetup/host/network_options.h"
#include "runtime/join.h"

namespace nsrun::cli {
namespace {

constexpr off_t kOwnerByte = 0;  // held by the live owner, for the sandbox's whole life
constexpr off_t kMutexByte = 1;  // held for a few system calls while a name changes hands
constexpr int kTakeAttempts = 16;

constexpr char kUnnamedMark = '@';
constexpr mode_t kRecordMode = 0600;  // a named sandbox's record holds its launch environment

std::string g_sandbox_dir = kSandboxDir;

std::string record_path(const std::string& file) { return g_sandbox_dir + "/" + file; }

// The records' directory, checked (base/state_directory.h); empty when it is missing and not made. A unit
// test's scratch directory (set_sandbox_dir) is its own, opened as it is.
UniqueFd records_directory(bool create) {
    if (g_sandbox_dir != kSandboxDir) return UniqueFd(::open(g_sandbox_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return open_state_directory("sandboxes", create ? 0755 : 0);
}

// 0, or the errno of F_OFD_SETLK(W): EAGAIN when another open file holds the byte.
int lock_byte(int fd, short type, off_t byte, bool wait) {
    struct flock lock{};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = byte;
    lock.l_len = 1;
    while (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) < 0)
        if (errno != EINTR) return errno;
    return 0;
}

// Whether another open file holds the owner byte; takes nothing, so it disturbs no launch.
bool owner_alive(int fd) {
    struct flock lock{};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = kOwnerByte;
    lock.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &lock) < 0) return true;  // cannot tell: leave it alone
    return lock.l_type != F_UNLCK;
}

// Whether `fd` is still the file `file` in `dir`: a cleaner may unlink a record between someone's open and lock.
bool still_linked(int dir, int fd, const std::string& file) {
    struct stat open_file{}, linked{};
    return ::fstat(fd, &open_file) == 0 && ::fstatat(dir, file.c_str(), &linked, AT_SYMLINK_NOFOLLOW) == 0 &&
           open_file.st_dev == linked.st_dev && open_file.st_ino == linked.st_ino;
}

uint64_t namespace_inode(const char* path) {
    struct stat st{};
    return ::stat(path, &st) == 0 ? uint64_t(st.st_ino) : 0;
}

// With the mutex held and the owner byte taken (the owner is dead): what the record says it made goes. Only a
// name's record can own /run/netns/NAME.
void remove_leftovers(int dir, int fd, const std::string& file) {
    auto record = parse_record(read_whole(fd).value_or(""));
    bool named = record && record->netns && file[0] != kUnnamedMark;
    // An interface another host namespace moved in may still be inside: only an nsrun there can give it back,
    // and until then the name is what keeps it alive (this nsrun already gave back its own namespace's).
    if (named && net::interface_held_at(netns_path(file))) return;
    if (named) remove_netns_name(file, *record->netns);
    ::unlinkat(dir, file.c_str(), 0);
}

// A reader's clean-up of a record whose owner looked dead. False when an owner holds it after all (a launch
// took the name in between).
bool clean_if_dead(int dir, int fd, const std::string& file) {
    if (lock_byte(fd, F_WRLCK, kMutexByte, true) != 0) return false;
    if (!still_linked(dir, fd, file)) return true;  // someone else cleaned it up
    if (lock_byte(fd, F_WRLCK, kOwnerByte, false) != 0) return false;
    remove_leftovers(dir, fd, file);
    return true;
}

// The record `file` in `dir`, checked: a dead owner's is cleaned up (when allowed: root) and a record is only
// running when it says it is the file's, and its init is still the process that started then.
Lookup look_up(int dir, const std::string& file) {
    UniqueFd fd = open_state_file(dir, g_sandbox_dir, file, O_RDWR);
    bool may_clean = bool(fd);
    if (!fd && errno == EACCES) fd = open_state_file(dir, g_sandbox_dir, file, O_RDONLY);
    if (!fd) return {};
    if (!owner_alive(fd.get()) && (!may_clean || clean_if_dead(dir, fd.get(), file))) return {};
    auto record = parse_record(read_whole(fd.get()).value_or(""));
    const std::string name = file[0] == kUnnamedMark ? std::string() : file;
    if (!record || !record->complete || record->name != name) return {Lookup::State::starting, {}};
    if (record->pid_namespace == namespace_inode("/proc/self/ns/pid") &&
        runtime::process_start_time(record->init_pid) != record->init_start_time)
        return {};  // its init has ended: the sandbox is gone, its owner about to remove the record
    return {Lookup::State::running, std::move(*record)};
}

bool is_sandbox_name(const std::string& text) {
    try {
        return net::parse_sandbox_name(text) == text;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

const std::string& sandbox_dir() { return g_sandbox_dir; }
void set_sandbox_dir(std::string dir) { g_sandbox_dir = std::move(dir); }

SandboxClaim::SandboxClaim(std::string file, UniqueFd dir, UniqueFd fd, SandboxRecord head, off_t size)
    : file_(std::move(file)), dir_(std::move(dir)), fd_(std::move(fd)), record_(std::move(head)), size_(size) {}

SandboxClaim SandboxClaim::take(const std::string& name, const std::vector<int>& keep_fds) {
    const std::string doing = "--name " + name;
    if (::geteuid() != 0)
        fail(doing, "needs root (the sandbox's network namespace is mounted on " + netns_path(name) + ")");
    for (int fd : keep_fds)
        if (::fcntl(fd, F_GETFD) < 0) throw_errno("--keep-fd " + std::to_string(fd));
    return take_file(name, doing, name);
}

std::optional<SandboxClaim> SandboxClaim::take_unnamed(const std::vector<int>& keep_fds) {
    if (::geteuid() != 0) return std::nullopt;
    for (int fd : keep_fds)
        if (::fcntl(fd, F_GETFD) < 0) return std::nullopt;  // the launch reports it
    const std::string file = kUnnamedMark + std::to_string(::getpid()) + "." +
                             std::to_string(namespace_inode("/proc/self/ns/pid"));
    try {
        return take_file(file, "recording the sandbox", "");
    } catch (const Error& error) {
        if (error.err() == 0) throw;  // a state file that cannot be trusted: the launch says so
        return std::nullopt;          // a read-only /run, say
    }
}

SandboxClaim SandboxClaim::take_file(const std::string& file, const std::string& doing, const std::string& name) {
    UniqueFd dir = records_directory(true);
    if (!dir) throw_errno(doing + ": creating " + g_sandbox_dir);
    const std::string path = record_path(file);
    for (int attempt = 0; attempt < kTakeAttempts; ++attempt) {
        UniqueFd fd = open_state_file(dir.get(), g_sandbox_dir, file, O_RDWR | O_CREAT, kRecordMode);
        if (!fd) throw_errno(doing + ": opening " + path);
        if (int err = lock_byte(fd.get(), F_WRLCK, kMutexByte, true)) throw_errno(doing + ": locking " + path, err);
        if (!still_linked(dir.get(), fd.get(), file)) continue;
        if (int err = lock_byte(fd.get(), F_WRLCK, kOwnerByte, false)) {
            if (err != EAGAIN) throw_errno(doing + ": locking " + path, err);
            auto running = parse_record(read_whole(fd.get()).value_or(""));
            fail(doing, "a sandbox of that name is running" +
                            (running && running->nsrun_pid ? " (nsrun pid " + std::to_string(running->nsrun_pid) + ")"
                                                           : std::string()));
        }
        // The record is ours. A previous owner died without cleaning up if it has content.
        struct stat st{};
        if (::fstat(fd.get(), &st) < 0) throw_errno(doing + ": reading " + path);
        if (st.st_size > 0) {
            auto previous = parse_record(read_whole(fd.get()).value_or(""));
            if (!name.empty() && previous && previous->netns) remove_netns_name(name, *previous->netns);
            // Only then: on ext4, truncating to zero makes the last close flush the file to disk (auto_da_alloc).
            if (::ftruncate(fd.get(), 0) < 0) throw_errno(doing + ": writing " + path);
        }
        if (!name.empty() && netns_name_exists(name)) {
            ::unlinkat(dir.get(), file.c_str(), 0);
            fail(doing, netns_path(name) + " exists: a network namespace of that name is in use (ip netns)");
        }
        SandboxRecord head;
        head.name = name;
        head.nsrun_pid = ::getpid();
        head.pid_namespace = namespace_inode("/proc/self/ns/pid");
        const std::string text = format_record_head(head);
        if (::pwrite(fd.get(), text.data(), text.size(), 0) != ssize_t(text.size())) {
            int err = errno;
            ::unlinkat(dir.get(), file.c_str(), 0);
            throw_errno(doing + ": writing " + path, err);
        }
        lock_byte(fd.get(), F_UNLCK, kMutexByte, false);
        return SandboxClaim(file, std::move(dir), std::move(fd), std::move(head), off_t(text.size()));
    }
    fail(doing, path + " keeps changing under nsrun");
}

void SandboxClaim::append(const std::string& text) {
    if (::pwrite(fd_.get(), text.data(), text.size(), size_) != ssize_t(text.size()))
        throw_errno("--name " + file_ + ": writing " + record_path(file_));
    size_ += off_t(text.size());
}

void SandboxClaim::publish(SandboxRecord record) {
    const std::string doing = "--name " + file_;
    record.name = record_.name;
    record.nsrun_pid = record_.nsrun_pid;
    record.pid_namespace = record_.pid_namespace;
    if (!record.name.empty()) {
        const std::string source = proc_path(record.init_pid, "ns/net");
        record.netns = namespace_inode(source.c_str());
        if (!*record.netns) throw_errno(doing + ": reading " + source);
        // Written before the file exists: a cleaner finding the record of a dead owner then knows the name is its.
        append(format_record_netns(record));
        name_netns(record.name, record.init_pid);
        named_ = true;
    }
    try {
        append(format_record_body(record));
    } catch (const Error&) {
        if (named_) throw;  // an unnamed sandbox only goes missing from nsrun list
    }
    record_ = std::move(record);
}

SandboxClaim::~SandboxClaim() {
    if (!fd_) return;
    // Under the mutex, so that a launch that has just found the owner byte held is not racing the unlink.
    lock_byte(fd_.get(), F_WRLCK, kMutexByte, true);
    if (named_) remove_netns_name(file_, *record_.netns);
    if (still_linked(dir_.get(), fd_.get(), file_)) ::unlinkat(dir_.get(), file_.c_str(), 0);
}

Lookup find_sandbox(const std::string& name) {
    UniqueFd dir = records_directory(false);
    return dir ? look_up(dir.get(), name) : Lookup{};
}

Listing running_sandboxes() {
    Listing listing;
    UniqueFd dir;
    try {
        dir = records_directory(false);
    } catch (const Error& error) {
        listing.refused.push_back(error.what());
        return listing;
    }
    if (!dir) return listing;
    std::vector<std::string> names, unnamed;
    {
        std::unique_ptr<DIR, int (*)(DIR*)> entries(::fdopendir(::dup(dir.get())), ::closedir);
        if (!entries) return listing;
        while (dirent* entry = ::readdir(entries.get())) {
            if (entry->d_name[0] == kUnnamedMark) unnamed.emplace_back(entry->d_name);
            else if (is_sandbox_name(entry->d_name)) names.emplace_back(entry->d_name);
        }
    }
    std::sort(names.begin(), names.end());
    std::vector<SandboxRecord> others;
    for (auto* files : {&names, &unnamed})
        for (const auto& file : *files) {
            try {
                Lookup found = look_up(dir.get(), file);
                if (found.state == Lookup::State::running)
                    (files == &names ? listing.running : others).push_back(std::move(found.record));
            } catch (const Error& error) {
                listing.refused.push_back(error.what());
            }
        }
    std::sort(others.begin(), others.end(), [](auto& a, auto& b) { return a.nsrun_pid < b.nsrun_pid; });
    for (auto& record : others) listing.running.push_back(std::move(record));
    return listing;
}

}  // namespace nsrun::cli
