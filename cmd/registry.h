// Named sandboxes: one record file per name in /run/nsrun/sandboxes, how nsrun list and nsrun exec find them.
//
// Liveness is a lock, not a pid: the owning nsrun holds an open-file-description lock (F_OFD_SETLK) on byte 0
// of its record for as long as the sandbox runs. The kernel drops it when the last descriptor of that open
// file closes, so SIGKILL included, and a pid that is reused later cannot pass for the owner. (The sandbox's
// init, cloned from nsrun, shares the descriptor until the program starts; it dies with nsrun anyway.)
// Byte 1 is a short-held mutex that orders whoever takes, finishes or cleans up a name; readers test byte 0
// with F_OFD_GETLK, which takes nothing, so a `nsrun list` can never make a launch think a name is taken.
//
// Leftovers: a SIGKILLed owner cannot unmount /run/netns/NAME, which keeps the namespace and its veth alive.
// Whoever next finds the record with byte 0 free (a --name launch of that name, nsrun exec of that name, any
// nsrun list) unmounts and removes the name and the record. Launches never scan the directory: their cost does
// not grow with the number of sandboxes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "cmd/sandbox_record.h"

namespace nsrun::cli {

// The records' directory: kStateDirectory's "sandboxes". Only the unit tests move it, to a scratch directory.
const std::string& sandbox_dir();
void set_sandbox_dir(std::string dir);

// A name held by this nsrun, from before the sandbox's clone until after its end.
class NameClaim {
public:
    // Takes NAME, after removing what a dead previous owner left. Throws Error("--name NAME", why) when a
    // running sandbox has the name, when /run/netns/NAME is someone else's, or without root; then nothing
    // changed. `keep_fds` (--keep-fd) must be open already: the record's descriptor could otherwise take one of
    // those numbers and be passed on to the program.
    static NameClaim take(const std::string& name, const std::vector<int>& keep_fds = {});
    NameClaim(NameClaim&& other) noexcept = default;
    NameClaim& operator=(NameClaim&&) = delete;
    // Unmounts and removes the name and the record.
    ~NameClaim();

    // Once the sandbox exists and its network is set up: names its network namespace /run/netns/NAME and
    // completes the record (`record` gives the sandbox's part: init pid and start time, addresses, ports,
    // seccomp, user, command), so that nsrun list and nsrun exec know it. Throws Error("--name NAME", why).
    void publish(SandboxRecord record);

private:
    NameClaim(std::string name, UniqueFd fd, SandboxRecord head, off_t size);
    void append(const std::string& text);

    std::string name_;
    UniqueFd fd_;
    SandboxRecord record_;
    off_t size_ = 0;
    bool named_ = false;
};

struct Lookup {
    enum class State { none, starting, running } state = State::none;
    SandboxRecord record;  // when running
};

// The sandbox named NAME; a dead owner's leftovers are removed on the way (when allowed: root).
Lookup find_sandbox(const std::string& name);

// Every running named sandbox, sorted by name; removes what dead ones left behind.
std::vector<SandboxRecord> running_sandboxes();

}  // namespace nsrun::cli
