// The named-sandbox side of the CLI: `nsrun list`, `nsrun exec`, and the record a --name launch publishes.
#pragma once

#include <sys/types.h>

#include <optional>

#include "cmd/options.h"
#include "cmd/sandbox_record.h"
#include "netsetup/netsetup.h"
#include "runtime/process_settings.h"
#include "runtime/runtime.h"

namespace nsrun::cli {

// nsrun list [--json]: prints the running sandboxes, named or not; returns the exit status.
int list_sandboxes(bool json);

// nsrun exec [OPTIONS] NAME [--] PROGRAM [ARGS...]: runs PROGRAM inside the running sandbox NAME and returns its status
// as a launch would. Throws Error("exec NAME", "no running sandbox named NAME") and the like.
int exec_in_sandbox(const ParseResult& parsed);

// What a launch records about its sandbox once the network is up (`lease` is null without --net=nat); a named
// one's record keeps the program's environment too, for nsrun exec.
SandboxRecord launch_record(const Options& options, const runtime::SandboxSpec& spec, pid_t init_pid,
                            const net::NatLease* lease);

// Sets the variable of `assignment` ("K=V") in `env`, replacing an earlier value.
void set_variable(std::vector<std::string>& env, const std::string& assignment);

}  // namespace nsrun::cli
