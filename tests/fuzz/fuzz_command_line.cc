// Any argument vector: parse_command_line either returns options or throws nsrun::Error, never crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "cmd/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> args(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) args.emplace_back();
        else args.back() += char(data[i]);
    }
    nsrun::cli::Sources sources{
        [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
        [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
    };
    try {
        nsrun::cli::parse_command_line(args, sources);
    } catch (const nsrun::Error&) {
    }
    return 0;
}
