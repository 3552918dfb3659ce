// The program's seccomp filter. It is compiled in the parent, before clone() (libseccomp allocates); the child
// only installs the ready BPF program, right before execve. docs/seccomp-profile.md describes the built-in
// profile and the two formats of profile files (nsrun's own, and the container world's JSON).
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/capabilities.h"

namespace nsrun::runtime {

// What the `includes`/`excludes` of a JSON profile are evaluated against.
struct ProfileConditions {
    CapabilitySet capabilities;  // the ones the program keeps (--cap-add)
    std::string kernel_release;  // as `uname -r` prints it; empty: the running kernel's
};

class SeccompFilter {
public:
    // Profile files larger than this are refused.
    static constexpr std::size_t kMaxProfileBytes = 1 << 20;

    // No filter: install() does nothing.
    static SeccompFilter off();
    // The built-in profile (x86-64 and i386; every x32 call kills the process). Compiled once per process; later calls share the program.
    static SeccompFilter default_profile();
    // The built-in profile's text, in the profile-file format: a starting point for one's own.
    static std::string_view default_profile_text() noexcept;
    // The built-in profile compiled from its text now: what the embedded program must equal.
    static SeccompFilter compile_default_profile();
    // The built-in profile in the container world's JSON format (--print-seccomp-profile), pretty-printed
    // and ending in a newline. Loaded back with from_text() it behaves as default_profile() does.
    static std::string default_profile_json();
    // Reads and compiles a profile file, in nsrun's format or the JSON one (told apart by content; see
    // docs/seccomp-profile.md), with nsrun's own rules on top. Errors read "--seccomp PATH:LINE: why" or, for
    // JSON, "--seccomp PATH: LINE:COLUMN: why".
    static SeccompFilter from_file(const std::string& path, const ProfileConditions& conditions = {});
    // Compiles profile text; `origin` names it in errors. Touches no file.
    static SeccompFilter from_text(std::string_view text, std::string_view origin,
                                   const ProfileConditions& conditions = {});

    bool enabled() const noexcept { return program_ != nullptr; }
    // The BPF program, or nullptr when off. Stable while this object (or a copy of it) lives.
    const sock_fprog* program() const noexcept;
    // For --verbose, one line each: what nsrun adds on top of a profile file, and what of the file it left
    // out. Empty for the built-in profile and off.
    const std::vector<std::string>& notes() const noexcept;

    // In the child, right before execve: sets no_new_privs and installs the filter. Makes no allocation.
    // Returns 0 or -errno. Does nothing and returns 0 when the filter is off.
    int install() const noexcept;

    struct Program;  // the instructions and the sock_fprog that points at them

private:
    explicit SeccompFilter(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
    std::shared_ptr<const Program> program_;
};

// --seccomp=VALUE: "default", "off", or the path of a profile file (write "./default" for a file named so).
// `conditions` decide a JSON profile's includes/excludes.
SeccompFilter seccomp_from_option(std::string_view value, const ProfileConditions& conditions = {});

}  // namespace nsrun::runtime
