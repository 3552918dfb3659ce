#include "runtime/view.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "runtime/child_report.h"
#include "runtime/exit_status.h"
#include "runtime/mounts.h"

namespace nsrun::runtime {
namespace {

// Where the host's nodes are bound from (mknod is refused in a user namespace, and a node of our own would
// be no better).
constexpr const char* kDevices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"};
constexpr const char* kDeviceLinks[][2] = {{"ptmx", "pts/ptmx"},      {"fd", "/proc/self/fd"},
                                           {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
                                           {"stderr", "/proc/self/fd/2"}};
// Docker's lists: what writes kernel state is read-only, what shows the host's memory, keys or hardware is
// masked. Entries this kernel lacks are skipped.
constexpr const char* kReadOnlyProc[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"};
constexpr const char* kMaskedProcFiles[] = {"/proc/kcore",       "/proc/keys",          "/proc/timer_list",
                                            "/proc/sched_debug", "/proc/latency_stats", "/proc/timer_stats"};
constexpr const char* kMaskedProcDirectories[] = {"acpi", "scsi"};
// The view's tmpfs directories and where each is shown.
constexpr const char* kPrivatePlaces[][2] = {{"tmp", "/tmp"}, {"var-tmp", "/var/tmp"}, {"run", "/run"}};

constexpr uint64_t kSealed = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

[[noreturn]] void fail(const ChildPlan& plan, int err, const char* doing, const char* detail = "") {
    report_and_exit(plan.channel_fd, kStatusNsrunError, err, doing, detail);
}

// A new file system of `type` with the given key, value pairs, as a detached mount with `attr`.
// Returns the mount's descriptor, or -errno.
int new_fs_mount(const char* type, std::initializer_list<const char*> options, uint64_t attr) {
    int fs = int(::syscall(SYS_fsopen, type, FSOPEN_CLOEXEC));
    if (fs < 0) return -errno;
    int result = 0;
    for (const char* const* option = options.begin(); option != options.end() && result == 0; option += 2)
        if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, option[0], option[1], 0) < 0) result = -errno;
    if (result == 0 && ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) result = -errno;
    if (result == 0) {
        result = int(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr));
        if (result < 0) result = -errno;
    }
    ::close(fs);
    return result;
}

int move_mount_to(int tree, int to_dir, const char* to_path) {
    return ::syscall(SYS_move_mount, tree, "", to_dir, to_path, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? errno : 0;
}

// Binds a copy of from_dir/from_path (AT_RECURSIVE: with the mounts below it) at to_dir/to_path with `attr`
// set on every mount of the copy before it is visible. Returns 0 or an errno.
int bind_at(int from_dir, const char* from_path, unsigned flags, int to_dir, const char* to_path, uint64_t attr) {
    int tree = int(::syscall(SYS_open_tree, from_dir, from_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags));
    if (tree < 0) return errno;
    int err = 0;
    if (attr) {
        mount_attr set{};
        set.attr_set = attr;
        if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (flags & AT_RECURSIVE), &set, sizeof set) < 0)
            err = errno;
    }
    if (!err) err = move_mount_to(tree, to_dir, to_path);
    ::close(tree);
    return err;
}

// A plain bind: one system call, where the new mount API takes three.
int bind(const char* source, const char* target) {
    return ::mount(source, target, nullptr, MS_BIND, nullptr) < 0 ? errno : 0;
}

// "/proc/self/fd/FD/NAME" into buffer: NAME below the directory open as FD, which a mount may cover by now.
// False when it does not fit.
bool host_path(char* buffer, size_t size, int fd, const char* name) {
    char digits[12];
    size_t count = 0;
    for (unsigned value = unsigned(fd); count == 0 || value; value /= 10) digits[count++] = char('0' + value % 10);
    constexpr const char kPrefix[] = "/proc/self/fd/";
    size_t length = std::strlen(name);
    if (sizeof kPrefix - 1 + count + 1 + length + 1 > size) return false;
    char* out = std::copy(kPrefix, kPrefix + sizeof kPrefix - 1, buffer);
    while (count) *out++ = digits[--count];
    *out++ = '/';
    std::memcpy(out, name, length + 1);
    return true;
}

// The directories between `path` (relative to dir) and its first `skip` bytes, which exist, as
// --dev-bind=/dev/dri/renderD128 needs. `path` is a buffer of the caller's; it is left as it was.
int make_parents(int dir, char* path, size_t skip) {
    for (char* slash = std::strchr(path + skip, '/'); slash; slash = std::strchr(slash + 1, '/')) {
        *slash = '\0';
        int err = ::mkdirat(dir, path, 0755) < 0 && errno != EEXIST ? errno : 0;
        *slash = '/';
        if (err) return err;
    }
    return 0;
}

int open_directory(const char* path) { return ::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC); }

// The directories of the view's one tmpfs, and the mount points /dev needs, made while it is still detached.
void lay_out_tmpfs(const ChildPlan& plan, int fs) {
    for (const auto& [name, mode] : {std::pair{"dev", 0755}, {"dev/pts", 0755}, {"dev/shm", 01777}, {"tmp", 01777},
                                     {"var-tmp", 01777}, {"run", 0755}, {"empty", 0555}})
        if (::mkdirat(fs, name, mode_t(mode)) < 0) fail(plan, errno, "making the sandbox's /dev");
    char path[4096] = "dev/";
    auto mount_point = [&](const char* name) {
        size_t size = std::strlen(name);
        if (size + 5 > sizeof path) fail(plan, ENAMETOOLONG, "--dev-bind ", name);
        std::memcpy(path + 4, name, size + 1);
        if (int err = make_parents(fs, path, 4)) fail(plan, err, "--dev-bind ", name);
        if (::mknodat(fs, path, S_IFREG | 0600, 0) < 0 && errno != EEXIST) fail(plan, errno, "making /dev/", name);
    };
    for (const char* name : kDevices) mount_point(name + 5);
    if (plan.terminal) mount_point("console");
    for (size_t i = 0; i < plan.device_bind_count; ++i) mount_point(plan.device_binds[i].target.c_str() + 5);
    for (const auto& [name, target] : kDeviceLinks) {
        std::memcpy(path + 4, name, std::strlen(name) + 1);
        if (::symlinkat(target, fs, path) < 0) fail(plan, errno, "making /dev/", name);
    }
}

// /dev: the host's harmless nodes, a devpts of the sandbox's own, the caller's terminal as /dev/console (so
// tty(1) can name it: its /dev/pts/N is the host's devpts, not this one), and what --dev-bind hands over.
// Returns the new /dev's descriptor.
int mount_dev(const ChildPlan& plan, int fs, int host_dev) {
    int dev = int(::syscall(SYS_open_tree, fs, "dev", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (dev < 0) fail(plan, errno, "making the sandbox's /dev");
    if (int err = move_mount_to(dev, AT_FDCWD, "/dev")) fail(plan, err, "mounting the sandbox's /dev");
    // The host's /dev is covered now: its nodes are reached through host_dev's descriptor.
    char source[4096];
    auto host_node = [&](const char* name) {
        if (!host_path(source, sizeof source, host_dev, name)) fail(plan, ENAMETOOLONG, "binding ", name);
        return source;
    };
    for (const char* path : kDevices)
        if (int err = bind(host_node(path + 5), path)) fail(plan, err, "binding ", path);
    for (size_t i = 0; i < plan.device_bind_count; ++i) {
        // The parent resolved the source; one under /dev is found in the host's.
        const char* path = plan.device_binds[i].source.c_str();
        if (int err = bind(std::strncmp(path, "/dev/", 5) == 0 ? host_node(path + 5) : path,
                           plan.device_binds[i].target.c_str()))
            fail(plan, err, "--dev-bind ", path);
    }
    // A convenience only (the program has the terminal on its descriptors): where this mount namespace cannot
    // reach it by its name, there is no /dev/console.
    if (plan.terminal && bind(host_node(plan.terminal), "/dev/console")) ::unlinkat(dev, "console", 0);
    // No gid=: the tty group need not exist in a user namespace.
    int pts = new_fs_mount("devpts", {"ptmxmode", "0666", "mode", "0620"}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    if (pts < 0) fail(plan, -pts, "mounting the sandbox's /dev/pts");
    if (int err = move_mount_to(pts, dev, "pts")) fail(plan, err, "mounting the sandbox's /dev/pts");
    ::close(pts);
    return dev;
}

int skip_missing(int err) { return err == ENOENT ? 0 : err; }

void mount_proc(const ChildPlan& plan, int empty) {
    // A remount must repeat them: in a user namespace they are locked.
    constexpr unsigned long kProcFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (::mount("proc", "/proc", "proc", kProcFlags, nullptr) < 0)
        fail(plan, errno, "mounting /proc for the sandbox's pid namespace");
    int proc = open_directory("/proc");
    if (proc < 0) fail(plan, errno, "opening the sandbox's /proc");
    for (const char* path : kReadOnlyProc) {
        int err = bind(path, path);
        if (err == ENOENT) continue;
        if (!err && ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kProcFlags, nullptr) < 0)
            err = errno;
        if (err) fail(plan, err, "making read-only ", path);
    }
    for (const char* path : kMaskedProcFiles)
        if (int err = skip_missing(bind("/dev/null", path))) fail(plan, err, "masking ", path);
    for (const char* name : kMaskedProcDirectories)
        if (int err = skip_missing(bind_at(empty, "", AT_EMPTY_PATH, proc, name, 0)))
            fail(plan, err, "masking /proc/", name);
    ::close(proc);
}

// A sysfs of the sandbox's network namespace; the kernel refuses one where that namespace is not the user
// namespace's own (--net=host in a user namespace), and then the host's is shown, read-only.
void mount_sys(const ChildPlan& plan, int host_sys, int empty) {
    int sys = new_fs_mount("sysfs", {}, kSealed);
    if (sys >= 0) {
        if (int err = move_mount_to(sys, AT_FDCWD, "/sys")) fail(plan, err, "mounting the sandbox's /sys");
        // A cgroup2 mount made in the host's cgroup namespace would reset the host's mount options
        // (nsdelegate, memory_recursiveprot): a new one only in a cgroup namespace of the sandbox's own.
        int cgroup = plan.new_cgroup_namespace ? new_fs_mount("cgroup2", {}, kSealed) : -1;
        int err = cgroup >= 0 ? move_mount_to(cgroup, sys, "fs/cgroup")
                              : skip_missing(bind_at(host_sys, "fs/cgroup", AT_RECURSIVE, sys, "fs/cgroup", kSealed));
        if (err) fail(plan, err, "mounting /sys/fs/cgroup read-only");
        if (cgroup >= 0) ::close(cgroup);
    } else {
        sys = int(::syscall(SYS_open_tree, host_sys, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
        mount_attr set{};
        set.attr_set = kSealed;
        if (sys < 0 || ::syscall(SYS_mount_setattr, sys, "", AT_EMPTY_PATH | AT_RECURSIVE, &set, sizeof set) < 0)
            fail(plan, errno, "binding the host's /sys read-only");
        if (int err = move_mount_to(sys, AT_FDCWD, "/sys")) fail(plan, err, "binding the host's /sys read-only");
    }
    if (int err = skip_missing(bind_at(empty, "", AT_EMPTY_PATH, sys, "firmware", 0)))
        fail(plan, err, "masking /sys/firmware");
    ::close(sys);
}

}  // namespace

void prepare_view(const ChildPlan& plan) {
    // The modes above are meant exactly; the caller's umask is the program's again at the end.
    mode_t umask = ::umask(0);
    int host_dev = open_directory("/dev");
    int host_sys = open_directory("/sys");
    if (host_dev < 0 || host_sys < 0) fail(plan, errno, "opening the host's /dev and /sys");
    int fs = new_fs_mount("tmpfs", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (fs < 0) fail(plan, -fs, "mounting the sandbox's tmpfs");
    lay_out_tmpfs(plan, fs);
    int empty = int(::syscall(SYS_open_tree, fs, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    mount_attr sealed{};
    sealed.attr_set = kSealed;
    if (empty < 0 || ::syscall(SYS_mount_setattr, empty, "", AT_EMPTY_PATH, &sealed, sizeof sealed) < 0)
        fail(plan, errno, "making the sandbox's masks");

    int dev = mount_dev(plan, fs, host_dev);
    mount_proc(plan, empty);
    mount_sys(plan, host_sys, empty);
    for (const auto& [name, target] : kPrivatePlaces)
        if (int err = skip_missing(bind_at(fs, name, 0, AT_FDCWD, target, 0))) fail(plan, err, "mounting ", target);
    if (plan.resolv_conf)
        if (int err = place_resolv_conf(fs, plan.resolv_conf, plan.resolv_conf_size))
            fail(plan, err, "mounting the sandbox's /etc/resolv.conf");
    for (int fd : {dev, empty, fs, host_sys, host_dev}) ::close(fd);
    ::umask(umask);
}

bool in_private_place(const std::string& path) {
    for (const auto& place : kPrivatePlaces) {
        const std::string_view dir = place[1];
        if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/') return true;
    }
    return false;
}

void enter_working_directory(const ChildPlan& plan) {
    if (plan.working_directory && ::chdir(plan.working_directory) == 0) return;
    for (char* const* entry = plan.envp; *entry; ++entry)
        if (std::strncmp(*entry, "HOME=/", 6) == 0 && ::chdir(*entry + 5) == 0) return;
    if (::chdir("/") < 0) fail(plan, errno, "entering the sandbox's /");
}

}  // namespace nsrun::runtime
