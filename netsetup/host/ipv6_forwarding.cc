#include "netsetup/host/ipv6_forwarding.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "base/error.h"
#include "base/files.h"
#include "base/ip_address.h"
#include "base/unique_fd.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {
namespace {

constexpr const char* kConfDir = "/proc/sys/net/ipv6/conf";

bool is_host_end(const std::string& name) {
    const size_t prefix = kHostLinkPrefix.size();
    return name.size() > prefix && name.starts_with(kHostLinkPrefix) &&
           std::all_of(name.begin() + long(prefix), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool ipv6_forwarding_on() {
    auto value = read_sysctl(std::string(kConfDir) + "/all/forwarding");
    return value && *value != "0";
}

bool ipv6_on_new_links() {
    auto value = read_sysctl(std::string(kConfDir) + "/default/disable_ipv6");
    return value && *value == "0";
}

std::vector<std::string> accept_ra_to_keep(const std::vector<std::pair<std::string, int>>& accept_ra) {
    std::vector<std::string> names;
    for (const auto& [name, value] : accept_ra)
        if (value == 1 && name != "all" && !is_host_end(name)) names.push_back(name);
    // default first: an interface that appears while the others are being changed copies it.
    std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n == "default"; });
    return names;
}

std::vector<std::string> turn_ipv6_forwarding_on() {
    const std::string doing = "turning on IPv6 forwarding";
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(kConfDir), ::closedir);
    if (!dir) throw_errno(doing + ": listing " + kConfDir);
    std::vector<std::pair<std::string, int>> accept_ra;
    // Bounded by the host's interfaces; this runs once, under nsrun's lock, not per launch.
    while (dirent* entry = ::readdir(dir.get())) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        auto value = read_sysctl(std::string(kConfDir) + "/" + name + "/accept_ra");
        if (value) accept_ra.emplace_back(name, std::atoi(value->c_str()));
    }
    std::vector<std::string> changed;
    for (const std::string& name : accept_ra_to_keep(accept_ra)) {
        std::string path = std::string(kConfDir) + "/" + name + "/accept_ra";
        try {
            write_sysctl(path, "2");
        } catch (const Error&) {
            if (read_sysctl(path)) throw;  // an interface that vanished meanwhile needs nothing
            continue;
        }
        changed.push_back(name);
    }
    write_sysctl(std::string(kConfDir) + "/all/forwarding", "1");
    return changed;
}

}  // namespace nsrun::net
