// The named-sandbox side of the CLI: `nsrun list`, `nsrun exec`, and the record a --name launch publishes.
#pragma once

#include <sys/types.h>

#include <optional>

#include "cmd/options.h"
#include "cmd/sandbox_record.h"
#include "netsetup/netsetup.h"
#include "runtime/process_settings.h"

namespace nsrun::cli {

// nsrun list [--json]: prints the running named sandboxes; returns the exit status.
int list_sandboxes(bool json);

// nsrun exec NAME [--] PROGRAM [ARGS...]: runs PROGRAM inside the running sandbox NAME and returns its status
// as a launch would. Throws Error("exec NAME", "no running sandbox named NAME") and the like.
int exec_in_sandbox(const ParseResult& parsed);

// What a --name launch records about its sandbox once the network is up (`lease` is null without --net=nat).
SandboxRecord launch_record(const Options& options, const std::optional<runtime::Identity>& identity,
                            pid_t init_pid, const net::NatLease* lease);

}  // namespace nsrun::cli
