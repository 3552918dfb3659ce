// runtime: starts one program in new namespaces and supervises it.
//
// Shape: Sandbox::create() clone()s a child into the requested namespaces; the child prepares what needs no
// network (mounts, loopback) and blocks on the sync channel. The caller then sets up the network for
// pidfd()/pid() and calls start(), which releases the child: it forks the program (the child itself stays as
// the sandbox's init, pid 1 of the new pid namespace), drops privileges, applies seccomp and execs. start()
// returns once the program has been exec'd, or throws ExecFailure with the status nsrun must exit with.
// wait() forwards signals until the program ends and returns its status the way `docker run` does.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/step_log.h"
#include "base/unique_fd.h"
#include "runtime/capabilities.h"
#include "runtime/id_block.h"
#include "runtime/process_settings.h"
#include "runtime/seccomp_filter.h"

namespace nsrun::runtime {

struct ChildReport;
struct JoinSpec;

// Who the program is to the host: the one decision about identity, made by the front end.
enum class IdMapping {
    host,   // no user namespace: the program's ids are the host's, root included (--user, --host-identity)
    block,  // a user namespace whose 0-65535 are a free block of the host's ids (root's default; id_block.h)
    self,   // a user namespace mapping only the caller's own uid and gid to themselves (rootless)
};

struct SandboxSpec {
    std::vector<std::string> argv;             // program and its arguments; argv[0] is looked up in PATH
    std::vector<std::string> env;              // the program's whole environment, "K=V"
    bool new_network = true;                   // false: share the caller's network namespace (--net=host)
    IdMapping id_mapping = IdMapping::host;
    IdPool id_pool;                            // block: where the block is taken from
    uid_t bind_owner_uid = 0;                  // block: who a writable --bind writes as on the host (the caller)
    gid_t bind_owner_gid = 0;
    int extra_namespaces = 0;                  // CLONE_NEWUTS | CLONE_NEWIPC | ... on top of pid and mount
    std::optional<std::string> hostname;       // needs CLONE_NEWUTS
    std::optional<std::string> resolv_conf;    // what the program sees at /etc/resolv.conf
    SeccompFilter seccomp = SeccompFilter::off();
    CapabilitySet capabilities;                // kept by the program; everything else is dropped
    bool read_only_root = false;               // the host's whole file system view read-only
    std::vector<MountRequest> mounts;          // done in order, after the view and resolv.conf
    bool own_view = true;                      // own /dev, /proc, /sys, /tmp, /run, IPC and UTS (runtime/view.h)
    std::vector<MountRequest> device_binds;    // --dev-bind: host devices shown in the sandbox's /dev
    std::optional<Identity> identity;          // uid/gid the program runs as (default: nsrun's)
    std::optional<std::string> chdir;
    std::vector<ResourceLimit> rlimits;
    std::vector<int> keep_fds;                 // passed on beside 0, 1 and 2
    // --net-only (runtime/net_only.h): only the network namespace (and a mount namespace that follows the
    // host's) is new; the program is the caller, with every capability, no seccomp, no no_new_privs, in the
    // host's pid, IPC and UTS namespaces and file system view. The identity is the caller's: id_mapping must be
    // host and identity empty; extra_namespaces, hostname, seccomp, capabilities, read_only_root and mounts
    // must be left at their defaults (create() refuses them).
    bool net_only = false;
};

// The program could not be started; status() is 125, 126 or 127.
class ExecFailure : public Error {
public:
    ExecFailure(int status, std::string doing, std::string why) : Error(std::move(doing), std::move(why)), status_(status) {}
    int status() const noexcept { return status_; }

private:
    int status_;
};

class Sandbox {
public:
    static Sandbox create(const SandboxSpec& spec, StepLog& log);
    // Starts spec.argv inside the running sandbox whose init spec.pid is (runtime/join.h); start() and wait()
    // then work as for create(). Throws Error("joining the sandbox", why) when that sandbox has ended.
    static Sandbox join(const JoinSpec& spec, StepLog& log);
    Sandbox(Sandbox&&) noexcept;
    Sandbox& operator=(Sandbox&&) = delete;
    ~Sandbox();  // kills and reaps the child if it is still running (set-up failed)

    pid_t pid() const noexcept { return pid_; }
    int pidfd() const noexcept { return pidfd_.get(); }

    void start(StepLog& log);
    // When the caller's own set-up failed, the child may have failed first and be the real cause: throws the
    // child's report if one is waiting, and returns otherwise.
    void throw_child_failure();
    // Forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to nsrun to the program and
    // returns the program's exit status, or 128+N if a signal N killed it.
    int wait();

private:
    [[noreturn]] void throw_report(const ChildReport& report);
    Sandbox(pid_t pid, UniqueFd pidfd, UniqueFd channel);
    pid_t pid_;
    std::optional<IdBlock> id_block_;  // held for the sandbox's life (the block's lock)
    UniqueFd pidfd_;
    UniqueFd channel_;
    bool reaped_ = false;
};

}  // namespace nsrun::runtime
