// `nsrun list` output: a table for people, a JSON array for scripts. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmd/sandbox_record.h"

namespace nsrun::cli {

// [{"name": ..., "pid": ..., "init_pid": ..., "addresses": [...], "ports": [...], "command": [...]}, ...]
// followed by a newline; "[]\n" when none; "name" is null for an unnamed sandbox. One sandbox a line. Written
// with nlohmann-json: bytes that are not valid UTF-8 (an argument may be anything) become U+FFFD, so the output
// is always valid JSON.
std::string sandboxes_json(const std::vector<SandboxRecord>& sandboxes);

// Columns NAME, PID (nsrun's), ADDRESSES, PORTS, COMMAND; "-" for an empty cell (an unnamed sandbox's name
// too). Control characters in cells
// are shown as \xHH so that nothing a command line holds reaches the terminal as is.
std::string sandboxes_table(const std::vector<SandboxRecord>& sandboxes);

}  // namespace nsrun::cli
