// A sandbox's network namespace under the name `ip netns` knows it by: the iproute2 convention, a bind mount
// of /proc/PID/ns/net on /run/netns/NAME (what `ip netns attach NAME PID` makes), with /run/netns a shared
// mount point so the mount reaches every mount namespace that receives this one's mounts (and its unmount
// reaches them too).
//
// The mount is made in nsrun's own mount namespace. Started from an ordinary shell or service, that is the
// machine's, and every later `ip netns exec` (a slave of it) sees the name. Started inside a private or slave
// mount namespace (under `ip netns exec`, say), only that namespace sees the mount; others see an empty file,
// exactly as with `ip netns add` run there.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace nsrun::cli {

inline constexpr const char* kNetnsDir = "/run/netns";

std::string netns_path(const std::string& name);

// Whether /run/netns/NAME exists (anyone's).
bool netns_name_exists(const std::string& name);

// Creates /run/netns/NAME (never replacing an existing one) and bind-mounts the network namespace of `pid`
// on it. Throws Error("--name NAME", why); on failure nothing it made remains.
void name_netns(const std::string& name, pid_t pid);

// Removes /run/netns/NAME when it is the name of network namespace `netns` (an nsfs inode), or an empty file
// (a name whose mount is gone, or lives in a mount namespace this one does not see: unlinking it detaches
// the mount there too). Leaves anything else alone. Never throws.
void remove_netns_name(const std::string& name, uint64_t netns) noexcept;

}  // namespace nsrun::cli
