// --net-only: a trusted service with only its network isolated, as `ip netns exec NAME PROGRAM` runs one.
//
// The program is the caller (uid, gid, every capability, no seccomp, no no_new_privs: an sshd must setuid to
// log users in) in the host's pid, IPC and UTS namespaces. Its mount namespace is new but a slave of the
// host's, as ip netns exec makes it: the host's mounts keep arriving, and only what belongs to the sandbox's
// network is its own (/sys of its network namespace, /etc/resolv.conf for --dns).
//
// Without a pid namespace there is no init whose end kills everything, so the child nsrun clones stays as the
// sandbox's keeper: it starts the program, passes nsrun's signals on, reaps orphans (a subreaper), and when
// the program ends, or nsrun dies (SIGKILL included: its parent-death signal), it kills every process left in
// the sandbox's network namespace (the program's sessions, and whatever joined it) before it exits with the
// program's status. So the namespace, and an interface moved into it, is free when nsrun gives it back.
// After clone(): system calls only.
#pragma once

#include "runtime/child.h"

namespace nsrun::runtime {

// The parent-death signal of the keeper: one it waits for anyway, told apart by its parent having changed.
inline constexpr int kKeeperDeathSignal = SIGHUP;

// The mount namespace described above. Reports over plan.channel_fd and exits on failure.
void prepare_net_only_mounts(const ChildPlan& plan);

// Whether nsrun, the keeper's parent, is gone.
bool supervisor_gone(const ChildPlan& plan);

// Kills what is left in the sandbox's own network namespace, then exits with `status`.
[[noreturn]] void end_net_only(const ChildPlan& plan, int status);

}  // namespace nsrun::runtime
