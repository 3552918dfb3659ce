// The code that runs after clone(), in the sandbox. Everything it needs is prepared by the parent beforehand,
// so the child only makes system calls: no allocation, no exceptions, no locks.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>

#include "base/state_directory.h"
#include "runtime/capabilities.h"
#include "runtime/process_settings.h"
#include "runtime/seccomp_filter.h"

namespace nsrun::runtime {

// Bytes the parent sends over the channel.
inline constexpr char kIdsMapped = 'u';  // uid/gid maps are written (user namespace only)
inline constexpr char kGo = 'g';         // the network is ready: start the program

// What the child sends back when something fails; EOF without a report means the program was exec'd.
struct ChildReport {
    int32_t status;   // what nsrun exits with
    int32_t err;      // errno
    char doing[232];  // what was being done, NUL-terminated
};

// How the child does one of plan.mounts.
struct MountStep {
    int tree;          // a bind's source tree opened by the parent (bind_sources.h), or -1: the child opens it
    bool make_target;  // a missing mount point may be made (it lies inside an earlier --tmpfs)
};

struct ChildPlan {
    char* const* argv;
    char* const* envp;
    const char* search_path;  // PATH the program is looked up in
    int channel_fd;           // the child's end of the sync channel (close-on-exec)
    const char* resolv_conf;  // content to show at /etc/resolv.conf, or nullptr
    size_t resolv_conf_size;
    bool wait_for_ids;
    bool become_root;  // once the ids are mapped: uid and gid 0 of the new user namespace (a mapped block)
    bool new_network;
    const char* hostname;     // or nullptr
    const SeccompFilter* seccomp;
    CapabilitySet capabilities;
    bool read_only_root;
    const MountRequest* mounts;
    const char* tmpfs_options;  // owned by the program's user, so --tmpfs is writable for it
    const char* own_binary;     // nsrun's executable, made read-only inside; or nullptr
    size_t mount_count;
    MountStep* mount_steps;  // one per mount; the child fills in the trees it opens itself
    // The sandbox's own /dev, /proc, /sys, /tmp, /var/tmp and /run (runtime/view.h), or the host's.
    bool own_view;
    bool new_cgroup_namespace;
    const MountRequest* device_binds;  // --dev-bind: sources resolved, targets under /dev/
    size_t device_bind_count;
    const char* terminal;  // the caller's terminal below /dev ("pts/3"), shown as /dev/console; or nullptr
    bool switch_identity;
    bool set_groups;  // false in a user namespace, where setgroups() is denied
    uid_t uid;
    gid_t gid;
    const char* chdir;  // or nullptr
    const char* working_directory;  // without chdir: nsrun's, entered again after the mounts ("/" if it cannot be)
    const ResourceLimit* rlimits;
    size_t rlimit_count;
    const int* keep_fds;  // sorted
    size_t keep_fd_count;
    sigset_t program_sigmask;  // the caller's mask, restored for the program
    sigset_t supervised;       // signals init waits for and forwards (plus SIGCHLD)
    // --net-only: the child is not a pid namespace's init but the sandbox's keeper (runtime/net_only.h).
    bool net_only;
    pid_t supervisor;     // nsrun's pid: the keeper's parent while nsrun lives
    pid_t program_group;  // nsrun's process group, which the program joins (the keeper has one of its own)
    // Sandbox::join only: the sandbox init's pidfd and the CLONE_NEW* namespaces to enter through it.
    bool joining;
    int join_pidfd;
    int join_namespaces;
};

[[noreturn]] void run_child(const ChildPlan& plan) noexcept;

// The process Sandbox::join clones (already in the sandbox's pid namespace, and non-dumpable): enters the
// other namespaces, waits for kGo and becomes the program, hardened as run_child's program is.
[[noreturn]] void run_joined_child(const ChildPlan& plan) noexcept;

}  // namespace nsrun::runtime
