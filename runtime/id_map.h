// uid/gid maps of a rootless sandbox's user namespace: the caller's own ids map to themselves, nothing else.
#pragma once

#include <sys/types.h>

namespace nsrun::runtime {

// Writes "deny" to setgroups before gid_map: an unprivileged map writer may not keep setgroups() (CVE-2014-8989).
void write_id_maps(pid_t pid, uid_t uid, gid_t gid);

}  // namespace nsrun::runtime
