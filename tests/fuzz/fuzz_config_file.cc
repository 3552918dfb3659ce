// Any /etc/nsrun/nsrun.conf and NSRUN_SUBNET: a subnet or an Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "cmd/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    nsrun::cli::Sources sources{
        [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
        [&](const std::string&) -> std::optional<std::string> { return text; },
    };
    try {
        nsrun::cli::parse_command_line({"--net=nat", "true"}, sources);
    } catch (const nsrun::Error&) {
    }
    return 0;
}
