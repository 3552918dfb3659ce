// What the program is started with besides namespaces: identity, resource limits, mounts. Parsers for the
// user's text are pure and throw nsrun::Error("--option VALUE", "why").
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace nsrun::runtime {

struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<std::string> home;  // from the password database, when the user is in it
};

// --user=USER[:GROUP]: names or numbers. Without GROUP: the user's primary group, or the same number as the uid
// for a numeric user the password database does not know.
Identity resolve_identity(std::string_view spec);

struct ResourceLimit {
    int resource = 0;
    rlimit value{};
};

// --rlimit=NAME=VALUE or NAME=SOFT:HARD; NAME as in prlimit(1) (nofile, nproc, core, as, ...); VALUE a number
// or "unlimited".
ResourceLimit parse_rlimit(std::string_view text);

struct MountRequest {
    enum class Kind { bind, ro_bind, tmpfs } kind = Kind::bind;
    std::string source;  // empty for tmpfs
    std::string target;
};

// --bind / --ro-bind SRC[:DST] (DST defaults to SRC) and --tmpfs PATH. Paths must be absolute.
MountRequest parse_mount(MountRequest::Kind kind, std::string_view text);

}  // namespace nsrun::runtime
