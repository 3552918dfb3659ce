// The one error path of nsrun: every failure is an nsrun::Error that says what was being done and why it
// failed, so the CLI can print exactly one line "nsrun: what: why".
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nsrun {

// What a caller may have to tell apart, beyond the text meant for people. Most errors are `other`.
enum class ErrorKind {
    other,
    ended,  // the process or sandbox the operation was about has ended (a race with its exit, not a fault)
};

class Error : public std::runtime_error {
public:
    // `doing` is what nsrun was doing ("creating veth nsr12"); `why` the reason ("File exists").
    Error(std::string doing, std::string why, int err = 0, ErrorKind kind = ErrorKind::other);

    const std::string& doing() const noexcept { return doing_; }
    const std::string& why() const noexcept { return why_; }
    int err() const noexcept { return err_; }
    ErrorKind kind() const noexcept { return kind_; }

private:
    std::string doing_;
    std::string why_;
    int err_;
    ErrorKind kind_;
};

// Throws Error(doing, strerror(err), err).
[[noreturn]] void throw_errno(std::string doing, int err = errno);

// A word of the user's input quoted for an error message: printable ASCII as it is, anything else (and '\\')
// as \xHH, cut after 64 characters.
std::string quoted_input(std::string_view word);

// Throws Error(doing, why) for failures that have no errno (bad input, unexpected state).
[[noreturn]] void fail(std::string doing, std::string why, ErrorKind kind = ErrorKind::other);

}  // namespace nsrun
