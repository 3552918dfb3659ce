// Any host /etc/resolv.conf and resolved upstream file: the sandbox's file or an Error.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "base/error.h"
#include "netsetup/netsetup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    size_t split = text.find('\0');
    nsrun::net::ResolverFiles files;
    files.etc_resolv_conf = text.substr(0, split);
    if (split != std::string::npos) files.systemd_resolv_conf = text.substr(split + 1);
    try {
        auto result = nsrun::net::sandbox_resolv_conf(files, {});
        if (!result) return 0;
        // A loopback server must never reach the sandbox's file: it cannot be reached from there.
        std::istringstream lines(*result);
        std::string keyword, value;
        for (std::string line; std::getline(lines, line);) {
            std::istringstream words(line);
            if (words >> keyword >> value && keyword == "nameserver" && (value.starts_with("127.") || value == "::1"))
                __builtin_trap();
        }
    } catch (const nsrun::Error&) {
    }
    return 0;
}
