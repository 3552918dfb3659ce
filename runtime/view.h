// The sandbox's own view of the machine, as Docker and bubblewrap give it, made by the child after clone()
// (system calls only):
//   /dev       a tmpfs with null, zero, full, random, urandom and tty bound from the host, a private devpts
//              (ptmx -> pts/ptmx), shm, the fd links, the caller's terminal as console, and --dev-bind devices
//   /proc      the sandbox's pid namespace; sys, sysrq-trigger, irq, bus, fs read-only; kcore, keys,
//              timer_list, sched_debug, latency_stats, timer_stats, acpi, scsi masked
//   /sys       a read-only sysfs of the sandbox's network namespace (the host's, read-only, where the kernel
//              refuses one), firmware masked, cgroupfs read-only
//   /tmp, /var/tmp, /run: private
// The tmpfs places (/dev, /tmp, /var/tmp, /run, the masks, resolv.conf) are directories of one tmpfs.
#pragma once

#include <string>

#include "runtime/child.h"

namespace nsrun::runtime {

// Reports over plan.channel_fd and exits on any failure.
void prepare_view(const ChildPlan& plan);

// Whether `path` lies in one of the view's private tmpfs places (/tmp, /var/tmp, /run): the sandbox's own,
// where a missing mount point may be made.
bool in_private_place(const std::string& path);

// After every mount: the caller's working directory by its path in the view, else $HOME, else /. The
// directory inherited from the caller may be one the view covers (the host's /tmp, /run or /dev), which the
// program must not keep a way into.
void enter_working_directory(const ChildPlan& plan);

}  // namespace nsrun::runtime
