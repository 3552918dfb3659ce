// The capabilities the program keeps. Parsed in the parent; applied in the child with raw system calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nsrun::runtime {

struct CapabilitySet {
    uint64_t bits = 0;  // bit N is capability N (CAP_NET_BIND_SERVICE = 10)

    bool contains(int cap) const noexcept { return cap >= 0 && cap < 64 && (bits >> cap) & 1; }
    friend bool operator==(CapabilitySet, CapabilitySet) = default;
};

// "--cap-add=net_bind_service,CAP_SYS_TIME": comma-separated names, with or without CAP_, in any case.
// "all" stands for every capability nsrun knows (up to CAP_LAST_CAP of its kernel headers). Duplicates are
// fine; an empty list or an empty item ("a,,b") is an error, as is an unknown name:
// Error("--cap-add", "unknown capability 'x'").
CapabilitySet parse_capabilities(std::string_view list);

// What of `wanted` the program can keep: a capability nsrun does not hold itself (its permitted set) cannot be
// passed on. With `all`, those are left out quietly; otherwise Error("--cap-add", "nsrun itself lacks ...").
CapabilitySet keepable_capabilities(CapabilitySet wanted, bool all);

// "net_bind_service,sys_time" (lower case, no CAP_), or "none". For messages and logs.
std::string capability_names(CapabilitySet set);

// In the child, before exec and after any setuid(): keeps exactly `keep` (as far as the running kernel knows
// those capabilities) in the effective, permitted, inheritable and ambient sets, and drops everything else from
// the bounding set, so that `keep` survives execve of an ordinary (not set-user-ID, no file capabilities)
// program whether it runs as root or not. Raw capget/capset/prctl only: no allocation, async-signal-safe.
// Returns 0 or -errno; on failure *failed_step (if not null) names the step in a static string.
//
// What the caller must do when it changes uid before this call: set PR_SET_KEEPCAPS (or SECBIT_KEEP_CAPS)
// before setuid(), or the kernel empties the permitted set at the uid change; the bounding set can then not be
// dropped (that needs CAP_SETPCAP) and nothing can be kept. The uid change clears the effective set; this
// function raises it again from the permitted set before it drops anything. Keep-caps is reset by execve.
int apply_capabilities(CapabilitySet keep, const char** failed_step) noexcept;

}  // namespace nsrun::runtime
