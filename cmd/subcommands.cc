#include "cmd/subcommands.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "base/step_log.h"
#include "cmd/list_output.h"
#include "cmd/registry.h"
#include "runtime/exit_status.h"
#include "runtime/join.h"
#include "runtime/runtime.h"

extern char** environ;

namespace nsrun::cli {
namespace {

uint64_t own_pid_namespace() {
    struct stat st{};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? uint64_t(st.st_ino) : 0;
}

}  // namespace

int list_sandboxes(bool json) {
    std::vector<SandboxRecord> running = running_sandboxes();
    std::string text = json ? sandboxes_json(running) : sandboxes_table(running);
    std::fputs(text.c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : runtime::kStatusNsrunError;
}

int exec_in_sandbox(const ParseResult& parsed) {
    const std::string& name = parsed.target;
    const std::string doing = "exec " + name;
    StepLog log(parsed.options.verbose);
    Lookup found = find_sandbox(name);
    if (found.state == Lookup::State::starting) fail(doing, "the sandbox named " + name + " is still starting");
    if (found.state != Lookup::State::running) fail(doing, "no running sandbox named " + name);
    const SandboxRecord& record = found.record;
    // Its pids are numbers in the pid namespace of the nsrun that started it.
    if (record.pid_namespace != own_pid_namespace())
        fail(doing, "the sandbox was started in another pid namespace (run nsrun exec from there)");
    log.step("found the sandbox (init pid " + std::to_string(record.init_pid) + ")");

    runtime::JoinSpec spec;
    spec.pid = record.init_pid;
    spec.start_time = record.init_start_time;
    spec.argv = parsed.options.command;
    for (char** entry = environ; *entry; ++entry) spec.env.emplace_back(*entry);
    spec.seccomp = runtime::seccomp_from_option(record.seccomp);
    if (record.uid && record.gid) spec.identity = runtime::Identity{*record.uid, *record.gid, std::nullopt};
    // A sandbox that ends while it is being joined (its init gone, its pid namespace torn down around the new
    // process) reads better as the subcommand's own failure than as "joining the sandbox: it has ended".
    auto unless_ended = [&](auto&& step) {
        try {
            return step();
        } catch (const runtime::ExecFailure&) {
            throw;
        } catch (const Error& error) {
            if (error.kind() == ErrorKind::ended) fail(doing, "no running sandbox named " + name);
            throw;
        }
    };
    runtime::Sandbox joined = unless_ended([&] { return runtime::Sandbox::join(spec, log); });
    unless_ended([&] { joined.start(log); });
    return joined.wait();
}

SandboxRecord launch_record(const Options& options, const std::optional<runtime::Identity>& identity,
                            pid_t init_pid, const net::NatLease* lease) {
    SandboxRecord record;
    record.init_pid = init_pid;
    record.init_start_time = runtime::process_start_time(init_pid).value_or(0);
    if (lease) {
        record.addresses.push_back(lease->address.str());
        if (lease->address6) record.addresses.push_back(lease->address6->str());
    }
    for (const auto& moved : options.addresses) record.addresses.push_back(moved.address.str());  // --net=move
    for (const auto& mapping : options.publish) record.ports.push_back(mapping.str());
    // nsrun exec compiles the profile again, maybe from another directory.
    record.seccomp = options.seccomp == "default" || options.seccomp == "off"
                         ? options.seccomp
                         : std::filesystem::absolute(options.seccomp).lexically_normal().string();
    if (identity) {
        record.uid = identity->uid;
        record.gid = identity->gid;
    }
    record.command = options.command;
    return record;
}

}  // namespace nsrun::cli
