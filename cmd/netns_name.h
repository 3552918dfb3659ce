// A sandbox's network namespace under the name `ip netns` knows it by: the iproute2 convention, a bind mount
// of /proc/PID/ns/net on /run/netns/NAME (what `ip netns attach NAME PID` makes), with /run/netns a shared
// mount point so the mount reaches every mount namespace that receives this one's mounts (and its unmount
// reaches them too).
//
// The mount is made in the host's mount namespace (that of nsrun's outermost ancestor it may enter: pid 1's
// on an ordinary machine), whatever mount namespace nsrun itself runs in: started under `ip netns exec` or
// `unshare -m`, a mount of its own namespace would stay there, and `ip netns exec NAME` anywhere else would
// read an empty file ("Invalid argument"). Namespaces that are slaves of the host's (ip netns exec's,
// unshare -m's default) receive it too.
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
