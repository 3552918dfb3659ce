// Integration-test helpers: child processes with captured output and a time limit, and a private lab of
// network namespaces (tests/lab/lab.sh) per test, in which the real nsrun binary runs.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsrun::testing {

using namespace std::chrono_literals;
using Argv = std::vector<std::string>;
using Millis = std::chrono::milliseconds;

// What a finished child did: its exit status (128+N when killed by signal N) and its output.
struct Result {
    int status = -1;
    bool timed_out = false;
    std::string out;
    std::string err;
    // "status 3, stdout: ..., stderr: ..." for failure messages.
    std::string Describe() const;
};

// A running child in its own process group, stdin from /dev/null, stdout and stderr captured.
// Destroying it kills the whole group if it is still running.
class Process {
public:
    // extra_env: "NAME=value" entries added to (or replacing in) this process's environment.
    explicit Process(const Argv& argv, const Argv& extra_env = {}, const std::string& cwd = "");
    Process(Process&& other) noexcept;
    Process& operator=(Process&&) = delete;
    Process(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }
    // Reads output until stdout contains `needle`; false when the time runs out or the child exits first.
    bool WaitForOutput(std::string_view needle, Millis timeout);
    void Signal(int sig) const;
    // Waits for the child to exit (then drains its output); on timeout kills its group, timed_out is set.
    Result Wait(Millis timeout);
    bool exited() const { return exited_; }

private:
    // Polls the pipes for up to `wait` and reaps the child if it has exited.
    void Pump(Millis wait);
    void KillGroup() const;

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
    bool exited_ = false;
    int status_ = -1;
};

// Runs argv to completion (at most `timeout`).
Result RunCmd(const Argv& argv, Millis timeout = 30s, const Argv& extra_env = {});

// One lab: namespaces NAME-host (nsrun runs there) and NAME-inet (web and DNS servers).
class Lab {
public:
    explicit Lab(std::string name) : name_(std::move(name)) {}
    Lab(const Lab&) = delete;
    Lab& operator=(const Lab&) = delete;
    ~Lab() { Down(); }

    // lab.sh up NAME OPTIONS...; returns the script's result (status 0 on success).
    Result Up(const Argv& options = {});
    void Down();
    const std::string& name() const { return name_; }
    std::string dir() const { return "/run/nsrun-lab/" + name_; }
    // The lab host's /etc/resolv.conf as `ip netns exec` shows it.
    std::string resolv_conf_path() const { return "/etc/netns/" + name_ + "-host/resolv.conf"; }

    // Argument vectors that run a command in the lab host / the internet / an extra namespace.
    Argv InHost(const Argv& argv) const;
    Argv InInet(const Argv& argv) const;
    Argv InNs(const std::string& tag, const Argv& argv) const;
    // lab.sh add-ns: one more namespace NAME-TAG linked to the lab host (x-TAG there, eth0 inside).
    Result AddNs(const std::string& tag, const std::string& host_cidr, const std::string& ns_cidr) const;
    // nsrun ARGS... in the lab host.
    Argv Nsrun(const Argv& args) const;

    Result Host(const Argv& argv, Millis timeout = 30s) const { return RunCmd(InHost(argv), timeout); }
    Result Inet(const Argv& argv, Millis timeout = 30s) const { return RunCmd(InInet(argv), timeout); }
    Result RunNsrun(const Argv& args, Millis timeout = 30s, const Argv& extra_env = {}) const;
    // The lab host's first --net=nat launch turns forwarding on and says so once on stderr (egress_test.cc):
    // a test that asserts on later launches' stderr makes that first launch here.
    void TurnOnForwarding() const;

    // The web server's log: one "CLIENT METHOD PATH" line per request.
    std::vector<std::string> WebLog() const;
    // Interface names in the lab host.
    std::vector<std::string> HostLinks() const;
    // The names of nsrun's host veth ends (nsr*) in the lab host.
    std::vector<std::string> NsrLinks() const;
    // `nft list ruleset` in the lab host.
    std::string NftRuleset() const;

private:
    std::string name_;
    bool up_ = false;
};

// A fixture with a fresh lab per test, removed in TearDown even when the test failed. Skips when not root.
class LabTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;
    // lab.sh up options for this fixture.
    virtual Argv LabOptions() const { return {}; }
    // Whether the test drives nsrun (the lab's own tests do not).
    virtual bool NeedsNsrun() const { return true; }
    Lab& lab() { return *lab_; }

private:
    std::optional<Lab> lab_;
};

// Helpers for assertions.
std::vector<std::string> Lines(std::string_view text);
bool Contains(std::string_view haystack, std::string_view needle);
// Checks that `err` is exactly one line "nsrun: ..." (with its newline).
::testing::AssertionResult IsOneNsrunErrorLine(const std::string& err);
// The IPv4 addresses ("a.b.c.d", no prefix) on `dev` in `ip -4 -o addr` output.
std::vector<std::string> Ipv4Addresses(std::string_view ip_addr_output);
// Whether a.b.c.d lies in the IPv4 prefix "net/len".
bool InPrefix(const std::string& address, const std::string& cidr);
// The MTU in one line of `ip -o link` output, or -1.
int MtuOf(std::string_view ip_link_line);
// Polls `pred` every 20 ms until it is true or `timeout` passes; returns its last value.
template <typename Pred>
bool Eventually(Pred pred, Millis timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        ::usleep(20'000);
    }
}
// A string no other running test uses (pid + counter), for marking processes.
std::string UniqueToken();
// A whole file's bytes ("" when it cannot be read).
std::string ReadFile(const std::string& path);
// Pids of processes whose command line contains `needle` (the test binary's own excepted).
std::vector<pid_t> ProcessesMentioning(const std::string& needle);
// The Python the tests drive inside sandboxes (Debian's, whatever PATH says).
inline constexpr const char* kPython = "/usr/bin/python3";
// Where tests keep host files a sandbox must see: its /tmp, /var/tmp and /run are its own.
inline constexpr const char* kHostScratch = "/var/lib";
// A fresh path under kHostScratch, for a file both a test and its sandboxes see; removed on destruction.
class ScratchPath {
public:
    explicit ScratchPath(const std::string& tag)
        : path_(std::string(kHostScratch) + "/nsrun-" + tag + "-" + UniqueToken()) {}
    ~ScratchPath() { ::unlink(path_.c_str()); }
    ScratchPath(const ScratchPath&) = delete;
    ScratchPath& operator=(const ScratchPath&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};
// nsrun copied to a fresh 0755 directory (under kHostScratch), so that an unprivileged user can execute it;
// removed on destruction.
class PublicCopy {
public:
    explicit PublicCopy(const std::string& source);
    ~PublicCopy();
    const std::string& path() const { return path_; }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    std::string path_;
};

// The pool the tests give nsrun.
inline constexpr const char* kPool = "203.0.113.0/24";
inline constexpr const char* kSubnetFlag = "--subnet=203.0.113.0/24";
// Documentation addresses for the IPv6 half of a dual-stack sandbox (the lab host has IPv6).
inline constexpr const char* kSubnet6Flag = "--subnet6=2001:db8:6e73::/64";
// nsrun's arguments for a dual-stack `--net=nat` on the test pools (IPv4 and IPv6), then `flags`, then
// `-- program`.
Argv Nat(const Argv& program, const Argv& flags = {});

}  // namespace nsrun::testing
