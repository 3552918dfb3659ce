// Where nsrun keeps what outlives one process: NAT check records and locks, named sandboxes' records, moved
// interfaces' records. Root's, and read-only inside every sandbox.
#pragma once

namespace nsrun {

// The one spelling of the path; the macro only lets constants of paths under it be literals
// (NSRUN_STATE_DIRECTORY "/nat.lock"). Code names the directory kStateDirectory.
#define NSRUN_STATE_DIRECTORY "/run/nsrun"
inline constexpr const char* kStateDirectory = NSRUN_STATE_DIRECTORY;

}  // namespace nsrun
