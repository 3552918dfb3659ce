#include "runtime/capabilities.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"

namespace nsrun::runtime {

namespace {

constexpr uint64_t kAllKnown = (CAP_LAST_CAP >= 63) ? ~uint64_t(0) : (uint64_t(1) << (CAP_LAST_CAP + 1)) - 1;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}


struct CapHeader {
    __user_cap_header_struct header;
    __user_cap_data_struct data[2];
};

int capget_all(CapHeader& caps) noexcept {
    caps = {};
    caps.header.version = _LINUX_CAPABILITY_VERSION_3;
    caps.header.pid = 0;
    return int(::syscall(SYS_capget, &caps.header, caps.data));
}

int capset_all(uint64_t effective, uint64_t permitted, uint64_t inheritable) noexcept {
    CapHeader caps{};
    caps.header.version = _LINUX_CAPABILITY_VERSION_3;
    caps.header.pid = 0;
    for (int i = 0; i < 2; ++i) {
        caps.data[i].effective = uint32_t(effective >> (32 * i));
        caps.data[i].permitted = uint32_t(permitted >> (32 * i));
        caps.data[i].inheritable = uint32_t(inheritable >> (32 * i));
    }
    return int(::syscall(SYS_capset, &caps.header, caps.data));
}

}  // namespace

CapabilitySet parse_capabilities(std::string_view list) {
    if (list.empty()) fail("--cap-add", "empty list of capabilities");
    CapabilitySet set;
    while (true) {
        size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        if (item.empty()) fail("--cap-add", "empty capability name in the list");
        std::string name = lower(item);
        if (name == "all") {
            set.bits |= kAllKnown;
        } else {
            std::string bare = name.rfind("cap_", 0) == 0 ? name.substr(4) : name;
            // libcap-ng compares names case-insensitively and knows nothing of "cap_"; it also stops at a NUL.
            int cap = bare.find('\0') == std::string::npos && !bare.empty()
                          ? capng_name_to_capability(bare.c_str())
                          : -1;
            if (cap < 0 || cap > 63) fail("--cap-add", "unknown capability " + quoted_input(item));
            set.bits |= uint64_t(1) << cap;
        }
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return set;
}

std::string capability_names(CapabilitySet set) {
    std::string out;
    for (int cap = 0; cap < 64; ++cap) {
        if (!set.contains(cap)) continue;
        if (!out.empty()) out += ',';
        const char* name = capng_capability_to_name(unsigned(cap));
        out += name ? lower(name) : std::to_string(cap);
    }
    return out.empty() ? "none" : out;
}

int apply_capabilities(CapabilitySet keep, const char** failed_step) noexcept {
    auto failed = [failed_step](const char* step) {
        int err = errno;
        if (failed_step) *failed_step = step;
        return -err;
    };

    // The capabilities the running kernel has: PR_CAPBSET_READ fails with EINVAL past the last one.
    int last = -1;
    for (int cap = 0; cap < 64; ++cap) {
        int r = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0 && errno == EINVAL) break;
        if (r < 0) return failed("reading the capability bounding set");
        last = cap;
    }
    const uint64_t known = last >= 63 ? ~uint64_t(0) : (uint64_t(1) << (last + 1)) - 1;
    const uint64_t bits = keep.bits & known;

    // A uid change has emptied the effective set: raise it to the permitted set so CAP_SETPCAP can be used.
    CapHeader now;
    if (capget_all(now) < 0) return failed("reading capabilities (capget)");
    uint64_t permitted = uint64_t(now.data[0].permitted) | uint64_t(now.data[1].permitted) << 32;
    uint64_t inheritable = uint64_t(now.data[0].inheritable) | uint64_t(now.data[1].inheritable) << 32;
    if (capset_all(permitted, permitted, inheritable) < 0)
        return failed("raising the effective capabilities (capset)");

    for (int cap = 0; cap <= last; ++cap) {
        if ((bits >> cap) & 1) continue;
        int in_bounding_set = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in_bounding_set < 0) return failed("reading the capability bounding set");
        if (in_bounding_set && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return failed("dropping capabilities from the bounding set (PR_CAPBSET_DROP)");
    }

    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return failed("clearing the ambient capabilities");

    // Fails with EPERM when a kept capability is not in the permitted set.
    if (capset_all(bits, bits, bits) < 0) return failed("setting the kept capabilities (capset)");

    // Ambient capabilities survive execve of a program without file capabilities, for root and other uids.
    for (int cap = 0; cap <= last; ++cap)
        if ((bits >> cap) & 1 && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return failed("raising ambient capabilities (PR_CAP_AMBIENT_RAISE)");
    return 0;
}

CapabilitySet keepable_capabilities(CapabilitySet wanted, bool all) {
    if (wanted.bits == 0) return wanted;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) < 0) throw_errno("reading nsrun's own capabilities");
    uint64_t held = uint64_t(data[0].permitted) | (uint64_t(data[1].permitted) << 32);
    CapabilitySet missing{wanted.bits & ~held};
    if (missing.bits == 0) return wanted;
    if (all) return CapabilitySet{wanted.bits & held};
    fail("--cap-add", "nsrun itself lacks " + capability_names(missing) + ", so the program cannot keep it");
}

}  // namespace nsrun::runtime
