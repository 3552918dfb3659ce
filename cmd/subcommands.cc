#include "cmd/subcommands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "base/step_log.h"
#include "cmd/list_output.h"
#include "cmd/registry.h"
#include "runtime/exit_status.h"
#include "runtime/join.h"
#include "runtime/runtime.h"

namespace nsrun::cli {
namespace {

// Never throws: an unnamed launch's record must not fail the launch (a deleted working directory, say).
std::string absolute_path(const std::string& path) {
    std::error_code error;
    auto absolute = std::filesystem::absolute(path, error);
    return error ? path : absolute.lexically_normal().string();
}

uint64_t own_pid_namespace() {
    struct stat st{};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? uint64_t(st.st_ino) : 0;
}

}  // namespace

int list_sandboxes(bool json) {
    if (::geteuid() != 0) fail("list", "needs root (the sandboxes' records are root's)");
    Listing listing = running_sandboxes();
    for (const auto& refused : listing.refused) std::fprintf(stderr, "nsrun: warning: %s\n", refused.c_str());
    std::string text = json ? sandboxes_json(listing.running) : sandboxes_table(listing.running);
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
    // As docker exec: the sandbox's own environment, never the caller's, which the sandbox's programs could
    // read from /proc/PID/environ.
    spec.env = record.env;
    spec.seccomp = runtime::seccomp_from_option(record.seccomp);
    if (parsed.options.user) {
        spec.identity = runtime::resolve_identity(*parsed.options.user);
        if (spec.identity->home) set_variable(spec.env, "HOME=" + *spec.identity->home);
    } else if (record.uid && record.gid) {
        spec.identity = runtime::Identity{*record.uid, *record.gid, std::nullopt};
    }
    for (const auto& assignment : parsed.options.setenv) set_variable(spec.env, assignment);
    spec.chdir = parsed.options.chdir;
    spec.keep_fds = parsed.options.keep_fds;
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

void set_variable(std::vector<std::string>& env, const std::string& assignment) {
    std::string key = assignment.substr(0, assignment.find('=') + 1);
    std::erase_if(env, [&](const std::string& entry) { return entry.starts_with(key); });
    env.push_back(assignment);
}

SandboxRecord launch_record(const Options& options, const runtime::SandboxSpec& spec, pid_t init_pid,
                            const net::NatLease* lease) {
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
                         : absolute_path(options.seccomp);
    if (spec.identity) {
        record.uid = spec.identity->uid;
        record.gid = spec.identity->gid;
    }
    record.command = options.command;
    if (options.name) record.env = spec.env;  // for nsrun exec, which only a name reaches
    return record;
}

}  // namespace nsrun::cli
