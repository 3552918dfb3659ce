// Where nsrun keeps what outlives one process: NAT check records and locks, sandboxes' records, moved
// interfaces' records. Root's, and read-only inside every sandbox.
//
// Everything read from here is untrusted input: a program that ran as uid 0 before the directory existed, or
// a user given write access by mistake, may have planted files. So every path under it is opened one component
// at a time without following symlinks, and each component must be owned by root and writable by nobody else
// (a directory, or a regular file for the last one); what a record names is checked against the system by
// its reader.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/unique_fd.h"

namespace nsrun {

// The one spelling of the path; the macro only lets constants of paths under it be literals
// (NSRUN_STATE_DIRECTORY "/nat.lock"). Code names the directory kStateDirectory.
#define NSRUN_STATE_DIRECTORY "/run/nsrun"
inline constexpr const char* kStateDirectory = NSRUN_STATE_DIRECTORY;
// An empty directory of root's: what every sandbox sees at /run/nsrun (runtime/mounts.cc).
inline constexpr const char* kEmptyStateView = NSRUN_STATE_DIRECTORY "/empty";

// Why a file with status `st` is no trusted state file of type `type` (S_IFDIR or S_IFREG): "a symbolic link",
// "owned by uid 1000, not root", "writable by its group or others"; "" when it is trusted.
std::string untrusted_state(const struct stat& st, mode_t type);

// Opens the directory /run/nsrun/RELATIVE ("" for /run/nsrun itself, "sandboxes", "moved/COOKIE"), making
// missing components with `create_mode` when it is not 0. Returns an empty descriptor with errno set when a
// component is missing (and not made) or cannot be opened. Throws Error(path, why) when a component cannot be
// trusted.
UniqueFd open_state_directory(std::string_view relative, mode_t create_mode = 0);

// Opens NAME in the state directory `dir` (from open_state_directory; `dir_path` names it in messages) with
// O_NOFOLLOW | O_CLOEXEC | `flags`. Returns an empty descriptor with errno set when it cannot be opened;
// throws Error(path, why) when the file is there but cannot be trusted.
UniqueFd open_state_file(int dir, std::string_view dir_path, const std::string& name, int flags, mode_t mode = 0);

// Before every root launch: makes /run/nsrun (root's, 0755) and kEmptyStateView if they are missing, so that
// no sandboxed program can create them first, and refuses a /run/nsrun that cannot be trusted
// (Error("/run/nsrun", why)).
void make_state_directory();

}  // namespace nsrun
