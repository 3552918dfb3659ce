// nsrun: the CLI only wires the libraries together: options -> runtime sandbox -> netsetup -> supervise.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "base/error.h"
#include "base/state_directory.h"
#include "base/step_log.h"
#include "cmd/netns_name.h"
#include "cmd/options.h"
#include "cmd/registry.h"
#include "cmd/subcommands.h"
#include "netsetup/move/moved_interface.h"
#include "netsetup/netsetup.h"
#include "netsetup/nat/rate_limit.h"
#include "netsetup/nft/port_publish.h"
#include "runtime/exit_status.h"
#include "runtime/runtime.h"
#include "runtime/view.h"

extern char** environ;

namespace {

using nsrun::cli::NetMode;
using nsrun::cli::set_variable;

std::vector<std::string> program_environment(const nsrun::cli::Options& options,
                                             const std::optional<nsrun::runtime::Identity>& identity) {
    std::vector<std::string> env;
    if (!options.clearenv)
        for (char** entry = environ; *entry; ++entry) env.emplace_back(*entry);
    if (identity && identity->home) set_variable(env, "HOME=" + *identity->home);
    for (const auto& assignment : options.setenv) set_variable(env, assignment);
    return env;
}

// Root's program gets a block of ids nobody on the host has, unless told to keep an identity of the host's;
// without root, namespaces come from a user namespace of the caller's own.
nsrun::runtime::IdMapping id_mapping_of(const nsrun::cli::Options& options) {
    using nsrun::runtime::IdMapping;
    if (options.net_only) return IdMapping::host;  // runtime/net_only.h: the caller, as under ip netns exec
    if (::geteuid() != 0) return IdMapping::self;
    bool host_ids = options.user || options.host_identity;
    if (host_ids) return options.user_namespace ? IdMapping::self : IdMapping::host;
    return IdMapping::block;
}

// Who ran nsrun: under sudo, the user sudo was run by (SUDO_UID, SUDO_GID), not root.
uint32_t caller_id(const char* variable, uint32_t own) {
    const char* value = std::getenv(variable);
    if (!value) return own;
    auto id = nsrun::parse_decimal(value, 0xFFFFFFFE);
    if (!id) nsrun::fail(std::string(variable) + " " + value, "not a user or group id (unset it, or give a number)");
    return uint32_t(*id);
}

// The host's resolver files, read once per launch by whichever step needs them first (the sandbox's
// resolv.conf, the view's copy of a linked one, the resolvers port 53 opens to).
const nsrun::net::ResolverFiles& host_resolver_files() {
    static const nsrun::net::ResolverFiles files = nsrun::net::read_host_resolver_files();
    return files;
}

// A program named by a path in the host's /tmp, /var/tmp or /run is not in the sandbox's own (runtime/view.h)
// unless a bind brings it there: one line that says so, rather than "No such file or directory" from inside.
void check_program_in_view(const nsrun::runtime::SandboxSpec& spec) {
    const std::string& program = spec.argv.front();
    if (!spec.own_view || program.find('/') == std::string::npos) return;
    std::error_code ignored;
    const std::string path = std::filesystem::absolute(program, ignored).lexically_normal().string();
    if (!nsrun::runtime::in_private_place(path)) return;
    for (const auto& mount : spec.mounts)
        if (mount.kind != nsrun::runtime::MountRequest::Kind::tmpfs &&
            (path == mount.target || path.starts_with(mount.target + "/")))
            return;
    nsrun::fail("executing " + program, path + " is in the host's /tmp, /var/tmp or /run, which the sandbox has "
                                               "its own of: hand it over with --ro-bind=" + path + ", or keep it elsewhere");
}

nsrun::runtime::SandboxSpec sandbox_spec(const nsrun::cli::Options& options) {
    nsrun::runtime::SandboxSpec spec;
    spec.argv = options.command;
    spec.new_network = options.net != NetMode::host;
    spec.id_mapping = id_mapping_of(options);
    if (spec.id_mapping == nsrun::runtime::IdMapping::block) {
        spec.id_pool = options.id_pool;
        spec.bind_owner_uid = caller_id("SUDO_UID", ::getuid());
        spec.bind_owner_gid = caller_id("SUDO_GID", ::getgid());
    }
    spec.extra_namespaces = options.extra_namespaces;
    spec.hostname = options.hostname;
    spec.read_only_root = options.read_only;
    spec.mounts = options.mounts;
    spec.device_binds = options.device_binds;
    spec.capabilities = nsrun::runtime::keepable_capabilities(options.capabilities, options.cap_add_all);
    spec.chdir = options.chdir;
    spec.rlimits = options.rlimits;
    spec.keep_fds = options.keep_fds;
    if (options.user) {
        spec.identity = nsrun::runtime::resolve_identity(*options.user);
        // A user namespace maps only the caller's own ids.
        if (spec.id_mapping == nsrun::runtime::IdMapping::self &&
            (spec.identity->uid != ::geteuid() || spec.identity->gid != ::getegid()))
            nsrun::fail("--user " + *options.user, "another user needs root (without root, or with --unshare=user, "
                                                   "only your own ids exist in the sandbox)");
    }
    spec.env = program_environment(options, spec.identity);
    if (options.net == NetMode::nat || !options.dns.empty())
        spec.resolv_conf = nsrun::net::sandbox_resolv_conf(host_resolver_files(), options.dns);
    // A JSON profile's includes/excludes are decided by the capabilities the program keeps.
    if (!options.net_only) spec.seccomp = nsrun::runtime::seccomp_from_option(options.seccomp, {spec.capabilities, {}});
    if (options.net_only) {
        // The host identity and view: whatever the defaults above isolate is left out (runtime/net_only.h).
        spec.net_only = true;
        spec.identity.reset();
        spec.extra_namespaces = 0;
        spec.capabilities = {};
        spec.own_view = false;
    }
    // A systemd-resolved or resolvconf host links the file into /run, of which the sandbox has a private one:
    // the sandbox gets the file's content instead.
    struct stat resolv_conf{};
    if (!spec.resolv_conf && spec.own_view && ::lstat("/etc/resolv.conf", &resolv_conf) == 0 &&
        S_ISLNK(resolv_conf.st_mode))
        spec.resolv_conf = host_resolver_files().etc_resolv_conf;
    check_program_in_view(spec);
    return spec;
}

// Interfaces a SIGKILLed nsrun could not give back come back with their configuration (moved_interface.h):
// before a dead sandbox's `ip netns` name is let go of (list, exec and --name clean those up), since the
// name may be what still holds one.
void print_lines(const std::vector<std::string>& lines) {
    for (const auto& line : lines) std::fprintf(stderr, "nsrun: %s\n", line.c_str());
}

void recover_moved_interfaces(nsrun::StepLog& log) {
    if (::geteuid() == 0) print_lines(nsrun::net::recover_moved_interfaces(log));
}

// When the sandbox failed first (a --bind source missing, say), the network step fails only as a consequence
// (the namespace is gone): the sandbox's own report names the cause.
template <typename Step>
void preferring_sandbox_failure(nsrun::runtime::Sandbox& sandbox, Step step) {
    try {
        step();
    } catch (const nsrun::Error&) {
        sandbox.throw_child_failure();
        throw;
    }
}

int run(const nsrun::cli::Options& options, nsrun::StepLog& log) {
    if (options.net == NetMode::nat && ::geteuid() != 0)
        nsrun::fail("--net=nat", "needs root (CAP_NET_ADMIN on the host) to create the veth and NAT rules; "
                                 "--net=none works without root");
    if (options.net_only && ::geteuid() != 0)
        nsrun::fail("--net-only", "needs root (ip netns exec's model: the program keeps root's privileges)");
    // Before anything reads it, and before the clone: a sandboxed uid 0 must never be the one that makes it.
    if (::geteuid() == 0) nsrun::make_state_directory();
    recover_moved_interfaces(log);
    if (options.rate) nsrun::net::check_rate(*options.rate);
    nsrun::runtime::SandboxSpec spec = sandbox_spec(options);
    log.step("prepared the sandbox");
    for (const std::string& note : spec.seccomp.notes()) log.step(note);
    // Before the clone, so that a name in use changes nothing; released after the sandbox (declared first).
    // Without a name, root's launches are recorded too, so that nsrun list shows them.
    std::optional<nsrun::cli::SandboxClaim> name =
        options.name ? std::optional(nsrun::cli::SandboxClaim::take(*options.name, options.keep_fds))
                     : nsrun::cli::SandboxClaim::take_unnamed(options.keep_fds);
    if (name) log.step(options.name ? "took the name " + *options.name : std::string("made the sandbox's record"));
    // Declared before the sandbox: it gives the interface back after the sandbox is gone, on every path.
    std::optional<nsrun::net::MovedInterface> moved;
    nsrun::runtime::Sandbox sandbox = nsrun::runtime::Sandbox::create(spec, log);
    // After the clone (the child must not inherit the ports) and before the host changes at all.
    nsrun::net::PublishedPorts published = nsrun::net::PublishedPorts::reserve(options.publish, options.ipv6, log);
    std::optional<nsrun::net::NatNetwork> network;
    if (options.net == NetMode::nat) {
        nsrun::net::NatOptions nat{options.subnet,
                                   "nsrun pid " + std::to_string(::getpid()) + ": " + options.command.front()};
        if (options.ipv6) nat.pool6 = options.subnet6;
        for (const auto& server : options.dns)
            if (server.needs_ipv6 && !nat.ipv6_needed_by) nat.ipv6_needed_by = "--dns " + server.address;
        nat.allow_host = options.allow_host;
        nat.connection_limit = options.connections;
        // The servers the sandbox was given: its own resolv.conf, or the host's file as it is.
        nat.name_servers = nsrun::net::resolv_conf_servers(
            spec.resolv_conf.value_or(host_resolver_files().etc_resolv_conf));
        preferring_sandbox_failure(sandbox, [&] {
            // Said once, when it happens (later launches find forwarding on), and before any error that follows.
            std::optional<std::string> notice;
            auto say = [&] {
                if (notice) std::fprintf(stderr, "nsrun: %s\n", notice->c_str());
            };
            try {
                network = nsrun::net::NatNetwork::attach(sandbox.pid(), sandbox.pidfd(), nat, log, notice);
            } catch (const nsrun::Error&) {
                say();
                throw;
            }
            say();
            if (options.rate) nsrun::net::limit_rate(network->lease(), sandbox.pidfd(), *options.rate, log);
            published.install(network->lease(), log);
        });
    }
    if (options.net == NetMode::move)
        preferring_sandbox_failure(sandbox, [&] {
            std::string held_at = options.name ? nsrun::cli::netns_path(*options.name) : std::string();
            moved.emplace(nsrun::net::MovedInterface::attach(
                sandbox.pid(), {options.move_interface, options.addresses, options.gateway, held_at}, log));
        });
    if (name) {
        auto record = nsrun::cli::launch_record(options, spec, sandbox.pid(), network ? &network->lease() : nullptr);
        if (options.net_only) record.seccomp = "off";  // what the program runs with
        name->publish(std::move(record));
        log.step(options.name ? "named the sandbox (ip netns, nsrun list, nsrun exec)" : "recorded the sandbox");
    }
    sandbox.start(log);
    int status = sandbox.wait();
    if (moved) print_lines(moved->restore(log));
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        auto parsed = nsrun::cli::parse_command_line(args, nsrun::cli::Sources::of_process());
        if (parsed.action == nsrun::cli::ParseResult::Action::list || parsed.action == nsrun::cli::ParseResult::Action::exec) {
            nsrun::StepLog quiet(parsed.options.verbose);
            recover_moved_interfaces(quiet);
        }
        if (parsed.action == nsrun::cli::ParseResult::Action::list) return nsrun::cli::list_sandboxes(parsed.json);
        if (parsed.action == nsrun::cli::ParseResult::Action::exec) return nsrun::cli::exec_in_sandbox(parsed);
        if (parsed.action != nsrun::cli::ParseResult::Action::run) {
            std::fputs(parsed.text.c_str(), stdout);
            return 0;
        }
        nsrun::StepLog log(parsed.options.verbose);
        return run(parsed.options, log);
    } catch (const nsrun::runtime::ExecFailure& failure) {
        std::fprintf(stderr, "nsrun: %s\n", failure.what());
        return failure.status();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "nsrun: %s\n", error.what());
        return nsrun::runtime::kStatusNsrunError;
    }
}
