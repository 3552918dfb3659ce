// A seccomp profile as nsrun compiles it, whichever format it was read from: nsrun's own line format
// (runtime/seccomp_filter.cc) or the container world's JSON (runtime/seccomp_json.cc). Internal to the
// runtime's seccomp files.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nsrun::runtime::seccomp {

// A condition compiled by nsrun itself rather than libseccomp (see compile_list_rules in seccomp_filter.cc).
struct ValueList {
    unsigned arg = 0;
    enum Kind { in, not_in, has_any, always } kind = in;  // always: every call, whatever its arguments
    std::vector<uint64_t> values;
};

struct Rule {
    int line = 0;
    int column = 0;  // JSON profiles: where the rule's object starts; 0 in nsrun's own format
    std::string name;
    int native_nr = 0;
    uint32_t action = 0;
    std::vector<scmp_arg_cmp> conditions;  // all must hold (libseccomp)
    std::optional<ValueList> list;         // instead of conditions: in, not-in, has-any
};

struct Profile {
    uint32_t default_action = SCMP_ACT_ALLOW;
    int default_line = 0;
    std::vector<Rule> rules;
    std::vector<std::string> notes;  // what --verbose says about the file (system calls it had to leave out)
};

}  // namespace nsrun::runtime::seccomp
