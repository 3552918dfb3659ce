// Where nsrun keeps what outlives one process: NAT check records and locks, named sandboxes' records, moved
// interfaces' records, id block locks. Root's, and read-only inside every sandbox.
#pragma once

#include <string>
#include <string_view>

#include "base/unique_fd.h"

namespace nsrun {

inline constexpr const char* kStateDirectory = "/run/nsrun";

// Opens kStateDirectory/`sub` (or kStateDirectory itself for an empty `sub`), making what is missing root's
// 0755. Whoever could plant either directory (another owner, group or world write) could forge nsrun's locks:
// such a directory is refused. Throws Error(doing, why).
UniqueFd open_state_directory(std::string_view sub, const std::string& doing);

}  // namespace nsrun
