// Any JSON --seccomp profile: a filter or an Error naming the line and column. Nothing else may escape (a
// position the parser did not record, a type nlohmann refuses, a libseccomp failure that is not an Error).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "runtime/seccomp_filter.h"
#include "runtime/seccomp_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 65536) return 0;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // Every capability, so that includes and excludes on caps both go each way across the corpus.
    const nsrun::runtime::ProfileConditions conditions{{~uint64_t(0) >> 23}, "6.1.0-18-amd64"};
    try {
        auto profile = nsrun::runtime::seccomp::parse_json_profile(text, "fuzz", conditions);
        // Compiling: libseccomp's time grows with the square of the rules; big profiles are its benchmark.
        if (profile.rules.size() <= 64) nsrun::runtime::SeccompFilter::from_text(text, "fuzz", conditions);
    } catch (const nsrun::Error&) {
    }
    return 0;
}
