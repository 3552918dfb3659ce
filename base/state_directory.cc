#include "base/state_directory.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "base/error.h"

namespace nsrun {
namespace {

UniqueFd open_owned_directory(int parent, const std::string& name, const std::string& path, const std::string& doing) {
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd fd(::openat(parent, name.c_str(), flags));
    if (!fd && errno == ENOENT) {
        if (::mkdirat(parent, name.c_str(), 0755) < 0 && errno != EEXIST) throw_errno(doing + ": creating " + path);
        fd = UniqueFd(::openat(parent, name.c_str(), flags));
    }
    if (!fd) throw_errno(doing + ": opening " + path);
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0) throw_errno(doing + ": reading " + path);
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        fail(doing, path + " is not root's own directory (owner " + std::to_string(st.st_uid) +
                        ", writable by others: " + ((st.st_mode & (S_IWGRP | S_IWOTH)) ? "yes" : "no") +
                        "): remove it and try again");
    return fd;
}

}  // namespace

UniqueFd open_state_directory(std::string_view sub, const std::string& doing) {
    std::string top = kStateDirectory;
    UniqueFd dir = open_owned_directory(AT_FDCWD, top, top, doing);
    if (sub.empty()) return dir;
    return open_owned_directory(dir.get(), std::string(sub), top + "/" + std::string(sub), doing);
}

}  // namespace nsrun
