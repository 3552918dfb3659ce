#include "runtime/bind_sources.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "base/error.h"
#include "runtime/view.h"

namespace nsrun::runtime {
namespace {

std::string option_of(const MountRequest& request) {
    return (request.kind == MountRequest::Kind::bind ? "--bind " : "--ro-bind ") + request.source;
}

// Whether `path` lies below `dir` (a directory path without a trailing slash).
bool is_below(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && (dir == "/" || path[dir.size()] == '/');
}

std::string file_system_name(int tree) {
    struct statfs fs{};
    if (::fstatfs(tree, &fs) < 0) return "unknown";
    switch (uint64_t(fs.f_type)) {
        case NFS_SUPER_MAGIC: return "nfs";
        case 0x65735546: return "fuse";
        case 0xFF534D42: return "cifs";
        case V9FS_MAGIC: return "9p";
        case PROC_SUPER_MAGIC: return "proc";
        case SYSFS_MAGIC: return "sysfs";
        case CGROUP2_SUPER_MAGIC: return "cgroup2";
        case DEVPTS_SUPER_MAGIC: return "devpts";
        case MSDOS_SUPER_MAGIC: return "vfat";
        case OVERLAYFS_SUPER_MAGIC: return "overlay";
        case TMPFS_MAGIC: return "tmpfs";
        case EXT4_SUPER_MAGIC: return "ext4";
        case XFS_SUPER_MAGIC: return "xfs";
        case BTRFS_SUPER_MAGIC: return "btrfs";
    }
    char hex[32];
    std::snprintf(hex, sizeof hex, "type 0x%llx", static_cast<unsigned long long>(fs.f_type));
    return hex;
}

int set_attributes(int tree, uint64_t attributes, int userns) {
    mount_attr attr{};
    attr.attr_set = attributes;
    attr.userns_fd = uint64_t(userns < 0 ? 0 : userns);
    return ::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ? errno : 0;
}

}  // namespace

BindSources::BindSources(const std::vector<MountRequest>& mounts, bool open, bool own_view) : mounts_(mounts) {
    trees_.resize(mounts.size());
    steps_.resize(mounts.size(), MountStep{-1, false});
    for (size_t i = 0; i < mounts.size(); ++i) {
        const MountRequest& request = mounts[i];
        // A missing mount point is made only inside a fresh tmpfs of the sandbox's own, never in the host's tree.
        steps_[i].make_target = own_view && in_private_place(request.target);
        for (size_t j = 0; j < i; ++j)
            if (mounts[j].kind == MountRequest::Kind::tmpfs && is_below(request.target, mounts[j].target))
                steps_[i].make_target = true;
        if (request.kind == MountRequest::Kind::tmpfs) continue;
        any_bind_ = true;
        if (!open) continue;
        trees_[i] = UniqueFd(int(::syscall(SYS_open_tree, AT_FDCWD, request.source.c_str(),
                                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
        if (!trees_[i]) throw_errno(option_of(request));
        steps_[i].tree = trees_[i].get();
    }
}

void BindSources::finish(int userns) {
    for (size_t i = 0; i < mounts_.size(); ++i) {
        if (!trees_[i]) continue;
        const MountRequest& request = mounts_[i];
        bool read_only = request.kind == MountRequest::Kind::ro_bind;
        uint64_t read_only_bit = read_only ? MOUNT_ATTR_RDONLY : 0;
        if (userns >= 0) {
            int err = set_attributes(trees_[i].get(), MOUNT_ATTR_IDMAP | read_only_bit, userns);
            // Read-only, a tree the kernel cannot idmap is still safe to show: owners the sandbox does not
            // know read as nobody.
            if (err == EINVAL && !read_only)
                fail(option_of(request),
                     "its file system (" + file_system_name(trees_[i].get()) +
                         ", or one mounted below it) cannot be idmapped, so the sandbox's root cannot write "
                         "there as you: bind a directory on ext4, xfs, btrfs or tmpfs, use --ro-bind, or run "
                         "with --host-identity or --user=USER");
            if (err && err != EINVAL) throw_errno(option_of(request) + ": idmapping it", err);
            if (!err) continue;
        }
        if (read_only)
            if (int err = set_attributes(trees_[i].get(), MOUNT_ATTR_RDONLY, -1))
                throw_errno(option_of(request) + ": making it read-only", err);
    }
}

}  // namespace nsrun::runtime
