// Where nsrun keeps what outlives one process: NAT check records and locks, named sandboxes' records, moved
// interfaces' records. Root's, and read-only inside every sandbox.
#pragma once

namespace nsrun {

inline constexpr const char* kStateDirectory = "/run/nsrun";

}  // namespace nsrun
