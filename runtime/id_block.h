// The host ids a sandbox started by root runs as: a block of 65,536 ids (0-65535 inside) that no host user and
// no other running sandbox has, so that to the host everything the program does is done by nobody.
//
// Taken without a daemon, the way systemd-nspawn's --private-users=pick does: the block whose base is B is
// held by an open-file-description lock (F_OFD_SETLK) on /run/nsrun/id-blocks/B, taken without waiting by the
// supervising nsrun for the sandbox's whole life. The kernel drops the lock when the last descriptor of that
// open file closes, SIGKILL included, so a dead nsrun's block is free again at once. The first block tried is
// a random one of the pool (like the veth name nsr<N>), so the expected number of tries does not grow with the
// number of sandboxes; blocks that hold an id of /etc/passwd, /etc/group, /etc/subuid or /etc/subgid are
// skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"

namespace nsrun::runtime {

inline constexpr uint32_t kIdBlockSize = 65536;
inline constexpr size_t kIdBlockAttempts = 100;

// The host ids blocks are taken from: [first, end), both multiples of kIdBlockSize. The default is
// systemd-nspawn's (0x00080000-0x6fff0000), well above the ids distributions give users.
struct IdPool {
    uint32_t first = 0x00080000;
    uint32_t end = 0x6FFF0000;
    uint32_t blocks() const { return (end - first) / kIdBlockSize; }
    std::string str() const;  // as parse_id_pool reads it
    bool operator==(const IdPool&) const = default;
};
inline constexpr const char* kDefaultIdPool = "0x80000-0x6fff0000";

// "FIRST-END", each decimal or 0x-hexadecimal; throws Error(origin + " " + text, why).
IdPool parse_id_pool(std::string_view text, std::string_view origin);

struct IdRange {
    uint64_t first = 0;
    uint64_t end = 0;  // exclusive
};

// The host's id files, as read (empty when missing).
struct HostIdFiles {
    std::string passwd, group, subuid, subgid;
    static HostIdFiles read();  // /etc/passwd, /etc/group, /etc/subuid, /etc/subgid
};

// Every id the files give a user or group: passwd's uid and gid, group's gid, the subuid/subgid ranges. Lines
// that do not parse are skipped.
std::vector<IdRange> ids_in_use(const HostIdFiles& files);

// The bases to try, in order: the blocks from the one `start` falls on (modulo the pool), wrapping around, at
// most `attempts` of them, without those that hold an id in `used`.
std::vector<uint32_t> candidate_blocks(const IdPool& pool, const std::vector<IdRange>& used, uint64_t start,
                                       size_t attempts = kIdBlockAttempts);

// A block held by this process. Releasing it removes its lock file before closing it: a taker that locked the
// removed file sees that it is no longer linked and tries again.
class IdBlock {
public:
    // Throws Error("taking a block of user ids", why) when none of the candidates is free.
    static IdBlock take(const IdPool& pool);
    IdBlock(IdBlock&&) noexcept = default;
    IdBlock& operator=(IdBlock&&) = delete;
    ~IdBlock();

    uint32_t base() const noexcept { return base_; }

private:
    IdBlock(uint32_t base, UniqueFd lock, std::string path) : base_(base), lock_(std::move(lock)), path_(std::move(path)) {}
    uint32_t base_;
    UniqueFd lock_;
    std::string path_;
};

}  // namespace nsrun::runtime
