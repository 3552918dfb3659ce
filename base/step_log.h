// --verbose: one line per set-up step on stderr with the time since nsrun started.
#pragma once

#include <chrono>
#include <string_view>

namespace nsrun {

class StepLog {
public:
    explicit StepLog(bool enabled);
    bool enabled() const noexcept { return enabled_; }
    // Prints "nsrun:    0.412 ms (+0.031): what" when enabled: time since start, and since the last step.
    void step(std::string_view what);

private:
    bool enabled_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_;
};

}  // namespace nsrun
