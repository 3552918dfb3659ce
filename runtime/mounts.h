// The sandbox's file system view, made by the child after clone(): like all child code, system calls only.
#pragma once

#include "runtime/child.h"

namespace nsrun::runtime {

// Makes the sandbox's mounts private, then, in this order: the read-only root (--read-only), /proc,
// /etc/resolv.conf, nsrun's own files protected, and the --tmpfs/--bind/--ro-bind requests as given.
// Reports over plan.channel_fd and exits on any failure.
void prepare_mounts(const ChildPlan& plan);

// Shows `content` at /etc/resolv.conf; 0 or an errno.
int mount_resolv_conf(const char* content, size_t size);

}  // namespace nsrun::runtime
