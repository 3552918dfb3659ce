#include "base/state_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"

namespace nsrun {
namespace {

// Throws when the open file `fd` at `path` is not trusted state of `type`.
void check_trusted(int fd, const std::string& path, mode_t type) {
    struct stat st{};
    if (::fstat(fd, &st) < 0) throw_errno("reading " + path);
    if (std::string why = untrusted_state(st, type); !why.empty()) fail(path, why + ": not nsrun's, left alone");
}

}  // namespace

std::string untrusted_state(const struct stat& st, mode_t type) {
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    if ((st.st_mode & S_IFMT) != type) return type == S_IFDIR ? "not a directory" : "not a regular file";
    if (st.st_uid != 0) return "owned by uid " + std::to_string(st.st_uid) + ", not root";
    if (st.st_mode & (S_IWGRP | S_IWOTH)) return "writable by its group or others";
    return "";
}

UniqueFd open_state_directory(std::string_view relative, mode_t create_mode) {
    std::string path = kStateDirectory;
    // /run itself is the system's; O_NOFOLLOW on the last component refuses a symlinked /run/nsrun.
    auto open_component = [&](int parent, const std::string& name, mode_t mode) {
        const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        UniqueFd fd(::openat(parent, name.c_str(), flags));
        if (!fd && errno == ENOENT && mode) {
            if (::mkdirat(parent, name.c_str(), mode) < 0 && errno != EEXIST) return UniqueFd();
            fd.reset(::openat(parent, name.c_str(), flags));
        }
        if (!fd && (errno == ELOOP || errno == ENOTDIR)) fail(path, "not a directory (a symbolic link?): not nsrun's, left alone");
        if (fd) check_trusted(fd.get(), path, S_IFDIR);
        return fd;
    };
    UniqueFd dir = open_component(AT_FDCWD, path, create_mode);
    while (dir && !relative.empty()) {
        size_t slash = relative.find('/');
        std::string name(relative.substr(0, slash));
        relative.remove_prefix(slash == std::string_view::npos ? relative.size() : slash + 1);
        path += "/" + name;
        dir = open_component(dir.get(), name, create_mode);
    }
    return dir;
}

UniqueFd open_state_file(int dir, std::string_view dir_path, const std::string& name, int flags, mode_t mode) {
    const std::string path = std::string(dir_path) + "/" + name;
    // O_NONBLOCK: a planted FIFO must not hang the reader (it changes nothing for a regular file).
    UniqueFd fd(::openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode));
    if (!fd && errno == ELOOP) fail(path, "a symbolic link: not nsrun's, left alone");
    if (fd) check_trusted(fd.get(), path, S_IFREG);
    return fd;
}

void make_state_directory() {
    UniqueFd dir = open_state_directory("", 0755);
    // Where root cannot make it (a read-only /run), no program of a sandbox can either.
    if (!dir && errno != EROFS && errno != EACCES) throw_errno(std::string("creating ") + kStateDirectory);
    if (dir && ::mkdirat(dir.get(), "empty", 0555) < 0 && errno != EEXIST && errno != EROFS)
        throw_errno(std::string("creating ") + kEmptyStateView);
}

}  // namespace nsrun
