#include "base/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/unique_fd.h"

namespace nsrun {
namespace {

std::optional<std::string> read_rest(int fd, size_t max, bool positional) {
    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t n = positional ? ::pread(fd, buffer, sizeof buffer, off_t(text.size())) : ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return text;
        text.append(buffer, size_t(n));
        if (text.size() > max) {
            errno = EFBIG;
            return std::nullopt;
        }
    }
}

}  // namespace

std::optional<std::string> read_whole(int fd, size_t max) { return read_rest(fd, max, true); }

std::optional<std::string> read_file(const std::string& path, size_t max) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return std::nullopt;
    auto text = read_rest(fd.get(), max, false);
    int err = errno;
    fd.reset();
    errno = err;  // what made it fail, not close()'s
    return text;
}

void write_file(const std::string& path, std::string_view text, const std::string& doing) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno(doing);
    ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != ssize_t(text.size())) throw_errno(doing, n < 0 ? errno : EIO);
}

std::optional<std::string> read_sysctl(const std::string& path) {
    auto text = read_file(path, 4096);
    if (!text && errno == ENOENT) return std::nullopt;
    if (!text) throw_errno("reading " + path);
    return text->substr(0, text->find('\n'));
}

void write_sysctl(const std::string& path, std::string_view value) {
    write_file(path, std::string(value) + "\n", "setting " + path + " to " + std::string(value));
}

}  // namespace nsrun
