// The processes of one network namespace, found through /proc/PID/ns/net. A sandbox without a pid namespace
// (--net-only) has no init whose end takes everything with it: what its program started (an sshd's sessions)
// and whatever joined it (`ip netns exec`) would keep the namespace, and an interface moved into it, alive.
// System calls only, no allocation, so that code running after clone() may call it.
#pragma once

#include <sys/types.h>

namespace nsrun {

// Sends SIGKILL to every process but the caller and `spared` whose network namespace is the one `netns_fd`
// refers to, pass after pass until one finds none (bounded: a process may fork while a pass runs). Returns the
// number of signals sent, or -errno when /proc cannot be read.
int kill_netns_members(int netns_fd, pid_t spared = 0) noexcept;

}  // namespace nsrun
