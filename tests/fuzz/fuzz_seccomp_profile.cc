// Any --seccomp profile file: a filter or an Error naming the line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "runtime/seccomp_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) return 0;  // compile time grows with the rule count; big files are a libseccomp benchmark
    try {
        nsrun::runtime::SeccompFilter::from_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const nsrun::Error&) {
    }
    return 0;
}
