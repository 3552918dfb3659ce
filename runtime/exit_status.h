// How nsrun turns the end of a process into its own exit status, the way `docker run` does.
#pragma once

namespace nsrun::runtime {

inline constexpr int kStatusNsrunError = 125;     // bad usage, set-up failure, missing privilege
inline constexpr int kStatusNotExecutable = 126;  // found but could not be executed
inline constexpr int kStatusNotFound = 127;

// From a waitpid() status: the exit code, or 128+N for a process killed by signal N.
int status_from_wait(int wait_status) noexcept;
// From waitid()'s si_code and si_status.
int status_from_siginfo(int code, int status) noexcept;
// 127 for "no such program", 126 for anything else execve can fail with.
int status_from_exec_errno(int err) noexcept;

}  // namespace nsrun::runtime
