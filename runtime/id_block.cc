#include "runtime/id_block.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>

#include "base/error.h"
#include "base/state_directory.h"

namespace nsrun::runtime {
namespace {

constexpr const char* kTaking = "taking a block of user ids";
constexpr const char* kBlockDir = "id-blocks";
constexpr uint64_t kLastValidEnd = 0xFFFF0000;  // the block above holds (uid_t)-1, which no map may contain

std::optional<uint64_t> parse_number(std::string_view text) {
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    uint64_t value = 0;
    if (text.empty() || text.size() > 16) return std::nullopt;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        size_t colon = line.find(':');
        fields.push_back(line.substr(0, colon));
        if (colon == std::string_view::npos) return fields;
        line.remove_prefix(colon + 1);
    }
}

// Calls add(fields) for each line of `text` that is not empty or a comment.
template <typename Add>
void for_each_entry(std::string_view text, Add add) {
    while (!text.empty()) {
        size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (!line.empty() && line[0] != '#') add(fields_of(line));
    }
}

void add_id(std::vector<IdRange>& used, std::string_view text) {
    if (auto id = parse_number(text); id && *id <= 0xFFFFFFFF && text.find_first_not_of("0123456789") == std::string_view::npos)
        used.push_back({*id, *id + 1});
}

void add_subordinate_ranges(std::vector<IdRange>& used, std::string_view text) {
    for_each_entry(text, [&](const std::vector<std::string_view>& f) {
        if (f.size() < 3) return;
        auto first = parse_number(f[1]), count = parse_number(f[2]);
        if (first && count && *count > 0) used.push_back({*first, *first + *count});
    });
}

std::string text_of(const char* path) {
    std::string text;
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return text;
    char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buffer, size_t(n));
        if (size_t(n) < sizeof buffer) return text;  // a regular file reads short only at its end
    }
}

uint64_t random_start() {
    uint64_t value = 0;
    if (::getrandom(&value, sizeof value, GRND_NONBLOCK) != sizeof value) value = uint64_t(::getpid()) * 2654435761u;
    return value;
}

// The lock file still names the file we locked: a releasing owner removes it before closing it.
bool still_linked(int fd, int dir, const char* name) {
    struct stat locked{}, linked{};
    return ::fstat(fd, &locked) == 0 && ::fstatat(dir, name, &linked, AT_SYMLINK_NOFOLLOW) == 0 &&
           locked.st_dev == linked.st_dev && locked.st_ino == linked.st_ino;
}

}  // namespace

std::string IdPool::str() const {
    char text[32];
    std::snprintf(text, sizeof text, "0x%x-0x%x", first, end);
    return text;
}

IdPool parse_id_pool(std::string_view text, std::string_view origin) {
    const std::string doing = std::string(origin) + " " + std::string(text);
    size_t dash = text.find('-');
    auto first = dash == std::string_view::npos ? std::nullopt : parse_number(text.substr(0, dash));
    auto end = dash == std::string_view::npos ? std::nullopt : parse_number(text.substr(dash + 1));
    if (!first || !end) fail(doing, "expected FIRST-END, e.g. " + std::string(kDefaultIdPool));
    if (*first % kIdBlockSize || *end % kIdBlockSize) fail(doing, "FIRST and END must be multiples of 65536 (0x10000)");
    if (*first < kIdBlockSize) fail(doing, "the pool must start above the host's first 65536 ids");
    if (*end > kLastValidEnd) fail(doing, "END may be at most 0xffff0000");
    if (*end <= *first) fail(doing, "END must be above FIRST (the pool holds at least one block of 65536 ids)");
    return IdPool{uint32_t(*first), uint32_t(*end)};
}

HostIdFiles HostIdFiles::read() {
    return {text_of("/etc/passwd"), text_of("/etc/group"), text_of("/etc/subuid"), text_of("/etc/subgid")};
}

std::vector<IdRange> ids_in_use(const HostIdFiles& files) {
    std::vector<IdRange> used;
    for_each_entry(files.passwd, [&](const std::vector<std::string_view>& f) {
        if (f.size() < 4) return;
        add_id(used, f[2]);
        add_id(used, f[3]);
    });
    for_each_entry(files.group, [&](const std::vector<std::string_view>& f) {
        if (f.size() >= 3) add_id(used, f[2]);
    });
    add_subordinate_ranges(used, files.subuid);
    add_subordinate_ranges(used, files.subgid);
    return used;
}

std::vector<uint32_t> candidate_blocks(const IdPool& pool, const std::vector<IdRange>& used, uint64_t start,
                                       size_t attempts) {
    std::vector<uint32_t> bases;
    uint64_t blocks = pool.blocks();
    if (blocks == 0) return bases;
    for (uint64_t i = 0; i < std::min<uint64_t>(attempts, blocks); ++i) {
        uint64_t base = pool.first + ((start + i) % blocks) * kIdBlockSize;
        bool taken = std::any_of(used.begin(), used.end(), [&](const IdRange& range) {
            return range.first < base + kIdBlockSize && base < range.end;
        });
        if (!taken) bases.push_back(uint32_t(base));
    }
    return bases;
}

IdBlock IdBlock::take(const IdPool& pool) {
    std::vector<uint32_t> bases = candidate_blocks(pool, ids_in_use(HostIdFiles::read()), random_start());
    if (bases.empty())
        fail(kTaking, "every block of the pool " + pool.str() + " holds ids of host users (/etc/passwd, /etc/group, "
                      "/etc/subuid, /etc/subgid): give another with --id-pool");
    const std::string dir_path = std::string(kStateDirectory) + "/" + kBlockDir;
    UniqueFd dir = open_state_directory(kBlockDir, 0755);
    if (!dir) throw_errno(std::string(kTaking) + ": opening " + dir_path);
    for (uint32_t base : bases) {
        const std::string name = std::to_string(base);
        // A second round only when the file was removed between our open and our lock.
        for (int round = 0; round < 2; ++round) {
            UniqueFd fd = open_state_file(dir.get(), dir_path, name, O_RDWR | O_CREAT, 0600);
            if (!fd) throw_errno(std::string(kTaking) + ": opening " + dir_path + "/" + name);
            struct flock lock{};
            lock.l_type = F_WRLCK;
            lock.l_whence = SEEK_SET;
            lock.l_len = 1;
            if (::fcntl(fd.get(), F_OFD_SETLK, &lock) < 0) {
                if (errno == EAGAIN || errno == EACCES) break;  // another sandbox's
                throw_errno(std::string(kTaking) + ": locking " + dir_path + "/" + name);
            }
            if (still_linked(fd.get(), dir.get(), name.c_str())) return IdBlock(base, std::move(fd), dir_path + "/" + name);
        }
    }
    fail(kTaking, "the " + std::to_string(bases.size()) + " blocks tried in the pool " + pool.str() +
                      " are all held by running sandboxes: give a larger one with --id-pool");
}

IdBlock::~IdBlock() {
    if (lock_) ::unlink(path_.c_str());
}

}  // namespace nsrun::runtime
