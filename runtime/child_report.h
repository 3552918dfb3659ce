// How code running after clone() tells nsrun what failed: one ChildReport over the sync channel, then _exit.
#pragma once

namespace nsrun::runtime {

[[noreturn]] void report_and_exit(int channel, int status, int err, const char* doing, const char* detail = "") noexcept;

}  // namespace nsrun::runtime
