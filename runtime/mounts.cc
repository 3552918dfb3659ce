#include "runtime/mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "runtime/child_report.h"
#include "runtime/exit_status.h"
#include "runtime/view.h"

namespace nsrun::runtime {

int place_resolv_conf(int mnt, const char* content, size_t size) {
    int err = 0;
    int file = ::openat(mnt, "resolv.conf", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ssize_t written = file < 0 ? -1 : ::write(file, content, size);
    if (written < 0) err = errno;
    else if (size_t(written) != size) err = EIO;
    if (file >= 0) ::close(file);
    int tree = err ? -1 : int(::syscall(SYS_open_tree, mnt, "resolv.conf", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!err && tree < 0) err = errno;
    // Onto the path itself, not where a link there leads (MOVE_MOUNT_T_SYMLINKS unset): a host's
    // /etc/resolv.conf that links into /run would lead into the sandbox's own /run.
    if (!err && ::syscall(SYS_move_mount, tree, "", AT_FDCWD, "/etc/resolv.conf", MOVE_MOUNT_F_EMPTY_PATH) < 0) err = errno;
    if (tree >= 0) ::close(tree);
    return err;
}

// The sandbox's /etc/resolv.conf lives on a small tmpfs of its own that is attached nowhere: a memfd cannot be
// bind-mounted (its mount is not in this namespace), and no directory of the host's may be covered to hold it.
int mount_resolv_conf(const char* content, size_t size) {
    int fs = int(::syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
    if (fs < 0) return errno;
    int err = 0;
    if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
        ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        err = errno;
    int mnt = err ? -1 : int(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    if (!err && mnt < 0) err = errno;
    ::close(fs);
    if (err) return err;
    err = place_resolv_conf(mnt, content, size);
    ::close(mnt);
    return err;
}

namespace {

int set_read_only(int dirfd, const char* path, unsigned flags) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    return ::syscall(SYS_mount_setattr, dirfd, path, flags | AT_RECURSIVE, &attr, sizeof attr) < 0 ? errno : 0;
}

// A recursive bind through the new mount API, so a read-only one is read-only all the way down before it is
// ever visible.
int open_tree_of(const char* source, bool read_only, int* tree) {
    *tree = int(::syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (*tree < 0) return errno;
    return read_only ? set_read_only(*tree, "", AT_EMPTY_PATH) : 0;
}

int attach_tree(int tree, const char* target) {
    int err = ::syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? errno : 0;
    ::close(tree);
    return err;
}

// Returns 0, or an errno with *failed_path naming the path that failed.
int bind_mount(const char* source, const char* target, bool read_only, const char** failed_path) {
    *failed_path = source;
    int tree;
    int err = open_tree_of(source, read_only, &tree);
    if (err) {
        if (tree >= 0) ::close(tree);
        return err;
    }
    if ((err = attach_tree(tree, target))) *failed_path = target;
    return err;
}

// The mount point and the directories above it that are missing, as bubblewrap makes them: a directory for a
// directory, an empty file for anything else. Only inside the sandbox's own tmpfs (MountStep::make_target).
int make_mount_point(const char* target, int tree) {
    char path[4096];
    size_t size = std::strlen(target);
    if (size >= sizeof path) return ENAMETOOLONG;
    std::memcpy(path, target, size + 1);
    for (size_t i = 1; i < size; ++i) {
        if (path[i] != '/') continue;
        path[i] = '\0';
        if (::mkdir(path, 0755) < 0 && errno != EEXIST) return errno;
        path[i] = '/';
    }
    struct stat source{};
    if (::fstat(tree, &source) < 0) return errno;
    if (S_ISDIR(source.st_mode)) return ::mkdir(path, 0755) < 0 && errno != EEXIST ? errno : 0;
    int file = ::open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (file < 0) return errno == EEXIST ? 0 : errno;
    ::close(file);
    return 0;
}

const char* option_of(const MountRequest& request) {
    return request.kind == MountRequest::Kind::bind ? "--bind " : "--ro-bind ";
}

// The sources nsrun could not open before the clone (without root), opened before the sandbox mounts anything.
void open_bind_sources(const ChildPlan& plan) {
    for (size_t i = 0; i < plan.mount_count; ++i) {
        const MountRequest& request = plan.mounts[i];
        MountStep& step = plan.mount_steps[i];
        if (request.kind == MountRequest::Kind::tmpfs || step.tree >= 0) continue;
        if (int err = open_tree_of(request.source.c_str(), request.kind == MountRequest::Kind::ro_bind, &step.tree))
            report_and_exit(plan.channel_fd, kStatusNsrunError, err, option_of(request), request.source.c_str());
    }
}

void attach_bind(const ChildPlan& plan, const MountRequest& request, const MountStep& step) {
    const char* target = request.target.c_str();
    int err = step.make_target ? make_mount_point(target, step.tree) : 0;
    if (!err) err = attach_tree(step.tree, target);
    if (err) report_and_exit(plan.channel_fd, kStatusNsrunError, err, option_of(request), target);
}

}  // namespace

void prepare_mounts(const ChildPlan& plan) {
    // Nothing mounted in here may reach the host, and the host's later mounts need not reach in.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "making the sandbox's mounts private");
    open_bind_sources(plan);
    if (plan.read_only_root)
        if (int err = set_read_only(AT_FDCWD, "/", 0))
            report_and_exit(plan.channel_fd, kStatusNsrunError, err, "making the file system read-only");
    if (plan.own_view) prepare_view(plan);
    else if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
        report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "mounting /proc for the sandbox's pid namespace");
    if (plan.resolv_conf && !plan.own_view)  // the view puts it in place from its own tmpfs
        if (int err = mount_resolv_conf(plan.resolv_conf, plan.resolv_conf_size))
            report_and_exit(plan.channel_fd, kStatusNsrunError, err, "mounting the sandbox's /etc/resolv.conf");
    // The program can learn where nsrun lives (/proc/1/cmdline) and, as uid 0, could rewrite it for the next
    // root launch to run (the shape of runc's CVE-2019-5736): inside, it is read-only and cannot be renamed
    // over. A binary that is not there (deleted) is nothing to protect.
    if (!plan.read_only_root && plan.own_binary) {
        const char* failed_path;
        int err = bind_mount(plan.own_binary, plan.own_binary, true, &failed_path);
        if (err && err != ENOENT) report_and_exit(plan.channel_fd, kStatusNsrunError, err, "protecting ", failed_path);
    }
    // nsrun's records and locks, which the view's private /run hides altogether: without the view, a uid 0
    // program could forge them to mislead the next launch, and read them (root's files), a named sandbox's
    // launch environment included. Then a read-only bind of an empty directory covers them (cheaper than a tmpfs, whose superblock each launch would make and destroy), which
    // cannot be renamed over either. Every root launch has made both; without the empty one (a rootless
    // launch, whose program cannot read root's records), the directory itself, read-only.
    if (!plan.own_view) {
        const char* failed_path;
        int err = bind_mount(kEmptyStateView, kStateDirectory, true, &failed_path);
        if (err == ENOENT) err = bind_mount(kStateDirectory, kStateDirectory, true, &failed_path);
        if (err && err != ENOENT) report_and_exit(plan.channel_fd, kStatusNsrunError, err, "covering ", failed_path);
    }
    for (size_t i = 0; i < plan.mount_count; ++i) {
        const MountRequest& request = plan.mounts[i];
        if (request.kind == MountRequest::Kind::tmpfs) {
            if (::mount("tmpfs", request.target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, plan.tmpfs_options) < 0)
                report_and_exit(plan.channel_fd, kStatusNsrunError, errno, "--tmpfs ", request.target.c_str());
        } else {
            attach_bind(plan, request, plan.mount_steps[i]);
        }
    }
    if (plan.own_view) enter_working_directory(plan);
}

}  // namespace nsrun::runtime
