// Running sandboxes: one record file per sandbox in /run/nsrun/sandboxes, how nsrun list and nsrun exec find
// them. A named sandbox's file is its name; an unnamed one's is "@PID.PIDNS" (no name starts with '@'), so
// that `nsrun list` shows every root launch, with its addresses and ports.
//
// Liveness is a lock, not a pid: the owning nsrun holds an open-file-description lock (F_OFD_SETLK) on byte 0
// of its record for as long as the sandbox runs. The kernel drops it when the last descriptor of that open
// file closes, so SIGKILL included, and a pid that is reused later cannot pass for the owner. (The sandbox's
// init, cloned from nsrun, shares the descriptor until the program starts; it dies with nsrun anyway.)
// Byte 1 is a short-held mutex that orders whoever takes, finishes or cleans up a record; readers test byte 0
// with F_OFD_GETLK, which takes nothing, so a `nsrun list` can never make a launch think a name is taken.
//
// Leftovers: a SIGKILLed owner cannot remove its record, nor unmount /run/netns/NAME, which keeps the
// namespace and its veth alive. Whoever next finds the record with byte 0 free (a --name launch of that name,
// nsrun exec of that name, any nsrun list) unmounts and removes the name and the record. Launches never scan
// the directory: their cost does not grow with the number of sandboxes.
//
// Records are root's and 0600 (a named one holds the sandbox's launch environment for nsrun exec), opened
// through base/state_directory.h; one that cannot be trusted is refused, and what a record says is checked
// against the system before it is shown or used (its init's pid and start time; nsrun exec also checks that
// the pid is a pid namespace's init).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/state_directory.h"
#include "base/unique_fd.h"
#include "cmd/sandbox_record.h"

namespace nsrun::cli {

inline constexpr const char* kSandboxDir = NSRUN_STATE_DIRECTORY "/sandboxes";

// The records' directory: kSandboxDir. Only the unit tests move it, to a scratch directory.
const std::string& sandbox_dir();
void set_sandbox_dir(std::string dir);

// A record held by this nsrun, from before the sandbox's clone until after its end.
class SandboxClaim {
public:
    // Takes NAME, after removing what a dead previous owner left. Throws Error("--name NAME", why) when a
    // running sandbox has the name, when /run/netns/NAME is someone else's, or without root; then nothing
    // changed. `keep_fds` (--keep-fd) must be open already: the record's descriptor could otherwise take one of
    // those numbers and be passed on to the program.
    static SandboxClaim take(const std::string& name, const std::vector<int>& keep_fds = {});
    // The record of an unnamed sandbox (root only): nullopt when it cannot be made (a read-only /run), which
    // costs the launch nothing but its line in nsrun list. Throws Error(path, why) when the records' directory
    // cannot be trusted.
    static std::optional<SandboxClaim> take_unnamed(const std::vector<int>& keep_fds = {});
    SandboxClaim(SandboxClaim&& other) noexcept = default;
    SandboxClaim& operator=(SandboxClaim&&) = delete;
    // Unmounts and removes the name and the record.
    ~SandboxClaim();

    // Once the sandbox exists and its network is set up: names its network namespace /run/netns/NAME (when
    // named) and completes the record (`record` gives the sandbox's part: init pid and start time, addresses,
    // ports, seccomp, user, command, environment), so that nsrun list and nsrun exec know it. Throws
    // Error("--name NAME", why).
    void publish(SandboxRecord record);

private:
    SandboxClaim(std::string file, UniqueFd dir, UniqueFd fd, SandboxRecord head, off_t size);
    static SandboxClaim take_file(const std::string& file, const std::string& doing, const std::string& name);
    void append(const std::string& text);

    std::string file_;  // the record's file name: the sandbox's name, or "@PID.PIDNS"
    UniqueFd dir_;
    UniqueFd fd_;
    SandboxRecord record_;
    off_t size_ = 0;
    bool named_ = false;
};

struct Lookup {
    enum class State { none, starting, running } state = State::none;
    SandboxRecord record;  // when running
};

// The sandbox named NAME; a dead owner's leftovers are removed on the way (when allowed: root). Throws
// Error(path, why) when its record, or the directory, cannot be trusted.
Lookup find_sandbox(const std::string& name);

struct Listing {
    std::vector<SandboxRecord> running;  // named ones sorted by name first, then unnamed ones by nsrun pid
    std::vector<std::string> refused;    // "PATH: why" for each record that cannot be trusted
};

// Every running sandbox; removes what dead ones left behind.
Listing running_sandboxes();

}  // namespace nsrun::cli
