#include "base/error.h"

#include <cstring>

namespace nsrun {

Error::Error(std::string doing, std::string why, int err, ErrorKind kind)
    : std::runtime_error(doing + ": " + why), doing_(std::move(doing)), why_(std::move(why)), err_(err), kind_(kind) {}

void throw_errno(std::string doing, int err) {
    throw Error(std::move(doing), std::strerror(err), err);
}

void fail(std::string doing, std::string why, ErrorKind kind) {
    throw Error(std::move(doing), std::move(why), 0, kind);
}

}  // namespace nsrun
