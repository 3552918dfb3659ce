// Joining a running sandbox (`nsrun exec`): another program started inside the namespaces of the sandbox's
// init, hardened the way the sandbox's own program is. Sandbox::join (runtime.h) starts it; Sandbox::start and
// Sandbox::wait then work as for a launch.
//
// Order of the steps, after runc's lessons (CVE-2019-5736): nsrun makes itself non-dumpable, so the joining
// process is non-dumpable from its first instant (it is born inside the sandbox's pid namespace, visible to the
// sandbox's processes, and neither its memory nor /proc/PID/exe, which is nsrun's binary on the host, may be
// reachable from there), and it stays so until execve replaces the image. nsrun joins the sandbox's pid
// namespace for its children only, then clone()s the process, which enters the other namespaces with one
// setns() on the init's pidfd, drops every capability, sets no_new_privs, marks every inherited descriptor
// close-on-exec, installs the seccomp filter and execs. It dies with nsrun (parent-death signal).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/process_settings.h"
#include "runtime/seccomp_filter.h"

namespace nsrun::runtime {

struct JoinSpec {
    pid_t pid = 0;              // the sandbox's init, as this process numbers it
    uint64_t start_time = 0;    // its start time (process_start_time): a recycled pid is refused
    std::vector<std::string> argv;
    std::vector<std::string> env;
    SeccompFilter seccomp = SeccompFilter::off();
    // The uid/gid to run as (the sandbox's --user). Default: uid and gid 0 of the sandbox's user namespace when
    // it has one that maps 0 (root's mapped block), otherwise nsrun's.
    std::optional<Identity> identity;
    std::optional<std::string> chdir;  // default: the root of the sandbox's mount namespace
    std::vector<int> keep_fds;         // passed on beside 0, 1 and 2
};

// When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat); nullopt when there is
// no such process. With the pid it names one process for the life of the system.
std::optional<uint64_t> process_start_time(pid_t pid);

}  // namespace nsrun::runtime
