// The sandbox's file system view, made by the child after clone(): like all child code, system calls only.
#pragma once

#include <cstddef>

#include "runtime/child.h"

namespace nsrun::runtime {

// Makes the sandbox's mounts private, then, in this order: the read-only root (--read-only), the view
// (runtime/view.h; or just /proc), /etc/resolv.conf, nsrun's own files protected, and the
// --tmpfs/--bind/--ro-bind requests as given (on top of the view).
// Reports over plan.channel_fd and exits on any failure.
void prepare_mounts(const ChildPlan& plan);

// Shows `content` at /etc/resolv.conf; 0 or an errno.
int mount_resolv_conf(const char* content, size_t size);

// Writes `content` to resolv.conf in the root of the detached tmpfs `mnt` and mounts that file on
// /etc/resolv.conf. Returns 0 or an errno.
int place_resolv_conf(int mnt, const char* content, size_t size);

}  // namespace nsrun::runtime
