// Seccomp profiles in the container world's JSON format (Docker's, podman's, the OCI runtime spec's:
// defaultAction, syscalls with names, action, args, includes/excludes), read and written with nlohmann-json.
// docs/seccomp-profile.md describes what nsrun makes of each field. Internal to the runtime's seccomp files:
// SeccompFilter (seccomp_filter.h) is the interface.
#pragma once

#include <string>
#include <string_view>

#include "runtime/seccomp_filter.h"
#include "runtime/seccomp_rules.h"

namespace nsrun::runtime::seccomp {

// Whether the text is a JSON profile: its first character other than white space (or a UTF-8 byte order
// mark) is '{' or '['. nsrun's own format cannot start so.
bool is_json_profile(std::string_view text);

// The rules the profile has for this program: `includes`/`excludes` decided against `conditions`, on x86-64.
// Errors read "--seccomp ORIGIN: LINE:COLUMN: why", the position being that of the offending value.
Profile parse_json_profile(std::string_view text, std::string_view origin, const ProfileConditions& conditions);

// `profile` in the JSON format, pretty-printed, with a final newline. nsrun's own conditions become what the
// format has: has-any one masked rule per bit, in one masked rule per value, not-in rules for the ranges
// between the values.
std::string profile_json(const Profile& profile);

}  // namespace nsrun::runtime::seccomp
