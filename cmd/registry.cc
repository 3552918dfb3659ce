#include "cmd/registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.h"
#include "base/files.h"
#include "base/proc_path.h"
#include "base/state_directory.h"
#include "cmd/netns_name.h"
#include "netsetup/network_options.h"
#include "runtime/join.h"

namespace nsrun::cli {
namespace {

constexpr off_t kOwnerByte = 0;  // held by the live owner, for the sandbox's whole life
constexpr off_t kMutexByte = 1;  // held for a few system calls while a name changes hands
constexpr int kTakeAttempts = 16;

std::string g_sandbox_dir = std::string(kStateDirectory) + "/sandboxes";

std::string record_path(const std::string& name) { return g_sandbox_dir + "/" + name; }

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

// Whether `fd` is still the file at `path`: a cleaner may unlink a record between someone's open and lock.
bool still_linked(int fd, const std::string& path) {
    struct stat open_file{}, linked{};
    return ::fstat(fd, &open_file) == 0 && ::lstat(path.c_str(), &linked) == 0 &&
           open_file.st_dev == linked.st_dev && open_file.st_ino == linked.st_ino;
}

uint64_t namespace_inode(const char* path) {
    struct stat st{};
    return ::stat(path, &st) == 0 ? uint64_t(st.st_ino) : 0;
}

// With the mutex held and the owner byte taken (the owner is dead): what the record says it made goes.
void remove_leftovers(int fd, const std::string& name) {
    auto record = parse_record(read_whole(fd).value_or(""));
    if (record && record->netns) remove_netns_name(name, *record->netns);
    ::unlink(record_path(name).c_str());
}

// A reader's clean-up of a record whose owner looked dead. False when an owner holds it after all (a launch
// took the name in between).
bool clean_if_dead(int fd, const std::string& name) {
    if (lock_byte(fd, F_WRLCK, kMutexByte, true) != 0) return false;
    if (!still_linked(fd, record_path(name))) return true;  // someone else cleaned it up
    if (lock_byte(fd, F_WRLCK, kOwnerByte, false) != 0) return false;
    remove_leftovers(fd, name);
    return true;
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

NameClaim::NameClaim(std::string name, UniqueFd fd, SandboxRecord head, off_t size)
    : name_(std::move(name)), fd_(std::move(fd)), record_(std::move(head)), size_(size) {}

NameClaim NameClaim::take(const std::string& name, const std::vector<int>& keep_fds) {
    const std::string doing = "--name " + name;
    if (::geteuid() != 0)
        fail(doing, "needs root (the sandbox's network namespace is mounted on " + netns_path(name) + ")");
    for (int fd : keep_fds)
        if (::fcntl(fd, F_GETFD) < 0) throw_errno("--keep-fd " + std::to_string(fd));
    for (const char* dir : {kStateDirectory, g_sandbox_dir.c_str()})
        if (::mkdir(dir, 0755) < 0 && errno != EEXIST) throw_errno(doing + ": creating " + dir);
    const std::string path = record_path(name);
    for (int attempt = 0; attempt < kTakeAttempts; ++attempt) {
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (!fd) throw_errno(doing + ": opening " + path);
        if (int err = lock_byte(fd.get(), F_WRLCK, kMutexByte, true)) throw_errno(doing + ": locking " + path, err);
        if (!still_linked(fd.get(), path)) continue;
        if (int err = lock_byte(fd.get(), F_WRLCK, kOwnerByte, false)) {
            if (err != EAGAIN) throw_errno(doing + ": locking " + path, err);
            auto running = parse_record(read_whole(fd.get()).value_or(""));
            fail(doing, "a sandbox of that name is running" +
                            (running && running->nsrun_pid ? " (nsrun pid " + std::to_string(running->nsrun_pid) + ")"
                                                           : std::string()));
        }
        // The name is ours. A previous owner died without cleaning up if the record has content.
        struct stat st{};
        if (::fstat(fd.get(), &st) < 0) throw_errno(doing + ": reading " + path);
        if (st.st_size > 0) {
            auto previous = parse_record(read_whole(fd.get()).value_or(""));
            if (previous && previous->netns) remove_netns_name(name, *previous->netns);
            // Only then: on ext4, truncating to zero makes the last close flush the file to disk (auto_da_alloc).
            if (::ftruncate(fd.get(), 0) < 0) throw_errno(doing + ": writing " + path);
        }
        if (netns_name_exists(name)) {
            ::unlink(path.c_str());
            fail(doing, netns_path(name) + " exists: a network namespace of that name is in use (ip netns)");
        }
        SandboxRecord head;
        head.name = name;
        head.nsrun_pid = ::getpid();
        head.pid_namespace = namespace_inode("/proc/self/ns/pid");
        const std::string text = format_record_head(head);
        if (::pwrite(fd.get(), text.data(), text.size(), 0) != ssize_t(text.size())) {
            int err = errno;
            ::unlink(path.c_str());
            throw_errno(doing + ": writing " + path, err);
        }
        lock_byte(fd.get(), F_UNLCK, kMutexByte, false);
        return NameClaim(name, std::move(fd), std::move(head), off_t(text.size()));
    }
    fail(doing, path + " keeps changing under nsrun");
}

void NameClaim::append(const std::string& text) {
    if (::pwrite(fd_.get(), text.data(), text.size(), size_) != ssize_t(text.size()))
        throw_errno("--name " + name_ + ": writing " + record_path(name_));
    size_ += off_t(text.size());
}

void NameClaim::publish(SandboxRecord record) {
    const std::string doing = "--name " + name_;
    record.name = record_.name;
    record.nsrun_pid = record_.nsrun_pid;
    record.pid_namespace = record_.pid_namespace;
    const std::string source = proc_path(record.init_pid, "ns/net");
    record.netns = namespace_inode(source.c_str());
    if (!*record.netns) throw_errno(doing + ": reading " + source);
    // Written before the file exists: a cleaner finding the record of a dead owner then knows the name is its.
    append(format_record_netns(record));
    name_netns(name_, record.init_pid);
    named_ = true;
    append(format_record_body(record));
    record_ = std::move(record);
}

NameClaim::~NameClaim() {
    if (!fd_) return;
    // Under the mutex, so that a launch that has just found the owner byte held is not racing the unlink.
    lock_byte(fd_.get(), F_WRLCK, kMutexByte, true);
    if (named_) remove_netns_name(name_, *record_.netns);
    const std::string path = record_path(name_);
    if (still_linked(fd_.get(), path)) ::unlink(path.c_str());
}

Lookup find_sandbox(const std::string& name) {
    const std::string path = record_path(name);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    bool may_clean = bool(fd);
    if (!fd && errno == EACCES) fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return {};
    if (!owner_alive(fd.get()) && (!may_clean || clean_if_dead(fd.get(), name))) return {};
    auto record = parse_record(read_whole(fd.get()).value_or(""));
    if (!record || !record->complete || record->name != name) return {Lookup::State::starting, {}};
    return {Lookup::State::running, std::move(*record)};
}

std::vector<SandboxRecord> running_sandboxes() {
    std::vector<SandboxRecord> running;
    DIR* dir = ::opendir(g_sandbox_dir.c_str());
    if (!dir) return running;
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir))
        if (is_sandbox_name(entry->d_name)) names.emplace_back(entry->d_name);
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        Lookup found = find_sandbox(name);
        if (found.state == Lookup::State::running) running.push_back(std::move(found.record));
    }
    return running;
}

}  // namespace nsrun::cli
