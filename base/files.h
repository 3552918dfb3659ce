// Reading and writing small whole files (records, configuration, /proc and /proc/sys entries), one way.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nsrun {

inline constexpr size_t kMaxSmallFile = 1 << 20;  // no record, profile or configuration file is that large

// The whole content of the file open at `fd`, from offset 0 whatever its position (pread: a record's owner
// and its readers share no offset). nullopt when it cannot be read (errno says why) or holds more than `max`
// bytes (errno EFBIG).
std::optional<std::string> read_whole(int fd, size_t max = kMaxSmallFile);

// The whole file at `path`, read in order (a pipe works too); nullopt as read_whole, and when it cannot be
// opened (errno ENOENT when it does not exist).
std::optional<std::string> read_file(const std::string& path, size_t max = kMaxSmallFile);

// Writes `text` to the existing file at `path` in one write(2), as /proc and /proc/sys want it. Throws
// Error(doing, strerror).
void write_file(const std::string& path, std::string_view text, const std::string& doing);

// A sysctl's value (its first line), or nullopt when it does not exist (IPv6 disabled at boot, an interface
// gone). Throws Error("reading PATH") on any other failure.
std::optional<std::string> read_sysctl(const std::string& path);

// Sets a sysctl (`value` without the newline). Throws Error("setting PATH to VALUE").
void write_sysctl(const std::string& path, std::string_view value);

}  // namespace nsrun
