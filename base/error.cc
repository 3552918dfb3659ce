#include "base/error.h"

#include <cstring>

#include "base/hex.h"

namespace nsrun {

Error::Error(std::string doing, std::string why, int err, ErrorKind kind)
    : std::runtime_error(doing + ": " + why), doing_(std::move(doing)), why_(std::move(why)), err_(err), kind_(kind) {}

void throw_errno(std::string doing, int err) {
    throw Error(std::move(doing), std::strerror(err), err);
}

std::string quoted_input(std::string_view word) {
    std::string out = "'";
    size_t n = 0;
    for (unsigned char c : word) {
        if (++n > 64) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += char(c);
        } else {
            out += "\\x";
            append_hex(out, c);
        }
    }
    return out + "'";
}

void fail(std::string doing, std::string why, ErrorKind kind) {
    throw Error(std::move(doing), std::move(why), 0, kind);
}

}  // namespace nsrun
