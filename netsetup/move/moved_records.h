// Where nsrun writes down an interface it gave to a sandbox, so that a later nsrun can put the interface's
// configuration back if this one is SIGKILLed: /run/nsrun/moved/COOKIE/IFACE, COOKIE being the host network
// namespace's cookie (SO_NETNS_COOKIE: never reused, unlike a namespace's inode number) and IFACE the
// interface's name there. The nsrun that made a record holds an flock on it until it has restored the
// interface and removed the record; the kernel drops the lock when that nsrun dies, so a record whose lock
// can be taken is stale: its owner is gone without restoring.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/state_directory.h"
#include "base/unique_fd.h"

namespace nsrun::net {

inline constexpr const char* kMovedRecordDir = NSRUN_STATE_DIRECTORY "/moved";

// The cookie of the calling thread's network namespace.
uint64_t network_namespace_cookie();

// Whether any record was ever written on this machine (one stat): the common case costs nothing more.
bool any_moved_records();

// One record, locked by this process while it is held.
class MovedRecord {
public:
    MovedRecord() = default;
    MovedRecord(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    MovedRecord(MovedRecord&&) noexcept = default;
    MovedRecord& operator=(MovedRecord&&) noexcept = default;

    // Writes `text` as the record of `interface`, atomically (no reader ever sees half a record) and locked.
    // Throws Error(doing, "File exists", EEXIST) when the interface already has one.
    static MovedRecord create(uint64_t cookie, const std::string& interface, const std::string& text);

    // Removes the record (still locked, so no other nsrun takes it for stale meanwhile) and drops the lock.
    void remove() noexcept;
    // Drops the lock and leaves the record for the next nsrun.
    void keep() noexcept { fd_.reset(); }
    const std::string& path() const noexcept { return path_; }
    explicit operator bool() const noexcept { return bool(fd_); }

private:
    UniqueFd fd_;
    std::string path_;
};

struct StaleRecord {
    std::string interface;
    std::string text;
    MovedRecord record;  // locked by the caller now
};

// The stale records of the namespace `cookie`, each now locked by the caller. Records that are being written,
// held by a live nsrun or taken by another nsrun meanwhile are left alone. Records are untrusted input: throws
// Error(path, why), taking none, when the directory or a record is not root's alone (base/state_directory.h)
// or a record describes another interface than its file name.
std::vector<StaleRecord> take_stale_records(uint64_t cookie);

// Whether a record of any host network namespace names `held_at` (an `ip netns` path) as what holds its
// sandbox's namespace. Such a name must outlive its dead sandbox until an nsrun of the record's own host
// namespace has taken the interface back: letting go of it would destroy a virtual interface, and only that
// namespace is where the interface belongs. Unsure (a directory that cannot be read or trusted) counts as yes.
bool interface_held_at(const std::string& held_at) noexcept;

// The text of the record of `interface` when a live nsrun holds it; nullopt when there is none or it is stale.
// Throws Error(path, why) when the record cannot be trusted.
std::optional<std::string> live_record(uint64_t cookie, const std::string& interface);

}  // namespace nsrun::net
