// uid/gid maps of the sandbox's user namespace, and the user namespace an idmapped bind mount goes through.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/unique_fd.h"

namespace nsrun::runtime {

// Rootless: the caller's own ids map to themselves, nothing else. Writes "deny" to setgroups before gid_map:
// an unprivileged map writer may not keep setgroups() (CVE-2014-8989).
void write_id_maps(pid_t pid, uid_t uid, gid_t gid);

// A block (id_block.h): ids 0-65535 inside are base..base+65535 on the host, for users and groups alike.
// Written by root, so setgroups() stays allowed: the child drops the host's supplementary groups with it.
void write_block_maps(pid_t pid, uint32_t base);

// The map of an idmapped bind's user namespace, as uid_map/gid_map read it: a file owned by `owner` on disk is
// base (uid 0 inside the sandbox), and what the program writes there is `owner`'s; every other id x below
// 65536 keeps its number inside (base + x), except that 0 and `owner` trade places, since a map is a
// bijection. An `owner` of 65536 or more takes 0's place, and 0 is then unmapped (nobody inside).
std::string bind_id_map(uint32_t base, uint32_t owner);

// /proc/PID/ns/user, opened.
UniqueFd open_user_namespace(pid_t pid);

// A user namespace whose maps are bind_id_map(base, uid) and bind_id_map(base, gid), as an fd for
// mount_setattr(MOUNT_ATTR_IDMAP). Needs root.
UniqueFd bind_user_namespace(uint32_t base, uid_t uid, gid_t gid);

}  // namespace nsrun::runtime
