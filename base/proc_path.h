// Paths of one process's files under /proc, spelled in one place.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace nsrun {

// "/proc/PID/ENTRY": proc_path(pid, "ns/net"), proc_path(pid, "stat").
inline std::string proc_path(pid_t pid, std::string_view entry) {
    return "/proc/" + std::to_string(pid) + "/" + std::string(entry);
}

}  // namespace nsrun
