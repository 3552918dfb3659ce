#include "runtime/child_report.h"

#include <unistd.h>

#include "runtime/child.h"

namespace nsrun::runtime {

void report_and_exit(int channel, int status, int err, const char* doing, const char* detail) noexcept {
    ChildReport report{};
    report.status = status;
    report.err = err;
    size_t n = 0;
    for (const char* part : {doing, detail})
        for (; *part && n + 1 < sizeof report.doing; ++part) report.doing[n++] = *part;
    ssize_t ignored = ::write(channel, &report, sizeof report);
    (void)ignored;
    _exit(status);
}

}  // namespace nsrun::runtime
