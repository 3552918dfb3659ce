// What nsrun remembers about a sandbox while it runs: one small text file per sandbox under
// /run/nsrun/sandboxes (cmd/registry.h owns the files). Pure: formatting and parsing only, so the unit tests
// drive it directly.
//
// Format: one "key value" line per field; values escape '\' as "\\" and a newline as "\n", so any argument
// fits on one line. The owner writes the file in stages, each appended to the last (see registry.cc); the
// record is complete once its last line is "end". Readers ignore keys they do not know.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsrun::cli {

struct SandboxRecord {
    std::string name;
    pid_t nsrun_pid = 0;          // the supervising nsrun: signals sent to it reach the program
    uint64_t pid_namespace = 0;   // inode of the pid namespace nsrun_pid and init_pid are numbered in
    // The sandbox's network namespace (its nsfs inode), written just before /run/netns/NAME is created: the
    // record then owns that file, and a cleaner may remove it.
    std::optional<uint64_t> netns;
    pid_t init_pid = 0;           // the sandbox's pid 1, as seen from nsrun
    uint64_t init_start_time = 0; // its start time (/proc/PID/stat field 22): with the pid, names the process
    std::vector<std::string> addresses;  // the sandbox's own addresses, IPv4 first
    std::vector<std::string> ports;      // published ports, as -p writes them
    std::string seccomp = "default";     // the --seccomp value the program runs with
    std::optional<uid_t> uid;            // --user, when given
    std::optional<gid_t> gid;
    std::vector<std::string> command;    // program and arguments
    std::vector<std::string> env;        // a named sandbox's launch environment ("K=V"), for nsrun exec
    bool complete = false;               // the "end" line was there
};

// The stages, in the order the owner appends them; format_record is all three.
std::string format_record_head(const SandboxRecord& record);   // name, nsrun-pid, pid-namespace
std::string format_record_netns(const SandboxRecord& record);  // "netns INODE", or nothing
std::string format_record_body(const SandboxRecord& record);   // everything else, then "end"
std::string format_record(const SandboxRecord& record);

// nullopt when the text is not a record (wrong version line, bad escape, bad number). An incomplete record
// (an owner still starting, or one that died while starting) parses with complete == false.
std::optional<SandboxRecord> parse_record(std::string_view text);

// One "key value" line with the value escaped.
std::string record_line(std::string_view key, std::string_view value);

}  // namespace nsrun::cli
