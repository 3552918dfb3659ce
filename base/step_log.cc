#include "base/step_log.h"

#include <cstdio>

namespace nsrun {

StepLog::StepLog(bool enabled)
    : enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}

void StepLog::step(std::string_view what) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::fprintf(stderr, "nsrun: %8.3f ms (+%.3f): %.*s\n", ms(now - start_), ms(now - last_), int(what.size()),
                 what.data());
    last_ = now;
}

}  // namespace nsrun
