#include "runtime/join.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/files.h"
#include "base/proc_path.h"
#include "base/unique_fd.h"
#include "runtime/child.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"

namespace nsrun::runtime {
namespace {

constexpr const char* kJoining = "joining the sandbox";

bool same_namespace(pid_t pid, const char* kind) {
    struct stat ours{}, theirs{};
    const std::string path = proc_path(pid, std::string("ns/") + kind);
    if (::stat(path.c_str(), &theirs) < 0) throw_errno(std::string(kJoining) + ": reading " + path);
    if (::stat((std::string("/proc/self/ns/") + kind).c_str(), &ours) < 0)
        throw_errno(std::string(kJoining) + ": reading /proc/self/ns/" + kind);
    return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

// Everything but the pid namespace, which nsrun enters for its children. Entering a namespace one is already
// in is harmless for all of these but the user namespace, where setns() refuses it.
int namespaces_to_enter(pid_t pid) {
    int flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME;
    if (!same_namespace(pid, "user")) flags |= CLONE_NEWUSER;
    return flags;
}

// "NSpid:\t4711\t1": pid 1 of a pid namespace below this one. A sandbox's init always is; a process of the
// host never is, so a record that names one (records are files) cannot send a program out of its sandbox.
bool is_nested_init(pid_t pid) {
    const std::optional<std::string> status = read_file(proc_path(pid, "status"));
    if (!status) return false;
    std::string_view text(*status);
    size_t line = text.find("\nNSpid:");
    if (line == std::string_view::npos) return false;
    text.remove_prefix(line + 7);
    text = text.substr(0, text.find('\n'));
    size_t last = text.find_last_of(" \t");
    return last != std::string_view::npos && text.substr(last + 1) == "1" &&
           text.find_first_not_of(" \t") < last;
}

std::string proc_text(pid_t pid, const char* name) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(std::string(kJoining) + ": reading " + path);
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) throw_errno(std::string(kJoining) + ": reading " + path);
    return std::string(buf, size_t(n));
}

// Whether the sandbox's user namespace has a uid 0 (a mapped block has; a rootless caller's has only its own).
bool maps_root(pid_t pid) {
    // Lines are "INSIDE OUTSIDE COUNT", the numbers padded with spaces.
    std::string map(1, '\n');  // not "\n" + text: GCC 12's false -Wrestrict at -O3 (GCC bug 105329)
    map += proc_text(pid, "uid_map");
    for (size_t line = map.find('\n'); line != std::string::npos; line = map.find('\n', line + 1)) {
        size_t first = map.find_first_not_of(' ', line + 1);
        if (first != std::string::npos && map.compare(first, 2, "0 ") == 0) return true;
    }
    return false;
}

}  // namespace

std::optional<uint64_t> process_start_time(pid_t pid) {
    const std::optional<std::string> line = read_file(proc_path(pid, "stat"));
    if (!line) return std::nullopt;
    std::string_view text(*line);
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    size_t close = text.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    text.remove_prefix(close + 1);
    for (int field = 3; field <= 22; ++field) {
        size_t start = text.find_first_not_of(' ');
        if (start == std::string_view::npos) return std::nullopt;
        text.remove_prefix(start);
        size_t end = text.find(' ');
        std::string_view value = text.substr(0, end);
        if (field == 22) {
            uint64_t ticks = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return std::nullopt;
                ticks = ticks * 10 + uint64_t(c - '0');
            }
            return ticks;
        }
        if (end == std::string_view::npos) return std::nullopt;
        text.remove_prefix(end);
    }
    return std::nullopt;
}

Sandbox Sandbox::join(const JoinSpec& spec, StepLog& log) {
    if (spec.argv.empty() || spec.argv[0].empty()) fail("starting the program", "no program given");
    CStrings argv(spec.argv), envp(spec.env);
    std::string search_path = search_path_of(spec.env);
    std::vector<int> keep_fds = checked_keep_fds(spec.keep_fds);

    UniqueFd target(int(::syscall(SYS_pidfd_open, spec.pid, 0)));
    if (!target && errno == ESRCH) fail(kJoining, "it has ended", ErrorKind::ended);
    if (!target) throw_errno(std::string(kJoining) + ": opening its init's pidfd");
    // After pidfd_open: if the pid still names the process that started then, the pidfd is that process.
    if (process_start_time(spec.pid) != spec.start_time) fail(kJoining, "it has ended", ErrorKind::ended);
    if (!is_nested_init(spec.pid)) fail(kJoining, "process " + std::to_string(spec.pid) + " is no sandbox's init");
    int namespaces = namespaces_to_enter(spec.pid);

    // Before the clone: the child is born in the sandbox's pid namespace and must never be dumpable there.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) throw_errno("making nsrun non-dumpable");
    if (::setns(target.get(), CLONE_NEWPID) < 0) throw_errno(std::string(kJoining) + "'s pid namespace");

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) throw_errno("creating the sync channel");
    UniqueFd parent_end(pair[0]), child_end(pair[1]);

    ChildPlan plan = program_plan(argv, envp, search_path, child_end.get());
    plan.seccomp = &spec.seccomp;
    plan.capabilities = CapabilitySet{};
    // Entering the sandbox's user namespace keeps the host's uid, which a block does not map: the program
    // becomes what the sandbox's own program is, the namespace's uid and gid 0 (its --user, if it had one).
    bool enters_user = namespaces & CLONE_NEWUSER;
    plan.switch_identity = spec.identity.has_value() || (enters_user && maps_root(spec.pid));
    plan.set_groups = !enters_user || proc_text(spec.pid, "setgroups") == "allow\n";
    if (spec.identity) {
        plan.uid = spec.identity->uid;
        plan.gid = spec.identity->gid;
    }
    plan.chdir = spec.chdir ? spec.chdir->c_str() : nullptr;
    plan.keep_fds = keep_fds.data();
    plan.keep_fd_count = keep_fds.size();
    plan.joining = true;
    plan.join_pidfd = target.get();
    plan.join_namespaces = namespaces;

    int pidfd = -1;
    pid_t pid = clone_with_pidfd(0, &pidfd);
    if (pid < 0) {
        // ENOMEM here means the sandbox's pid namespace is being torn down.
        if (errno == ENOMEM) fail(kJoining, "it has ended", ErrorKind::ended);
        throw_errno(std::string(kJoining) + ": starting a process in it");
    }
    if (pid == 0) {
        ::close(parent_end.release());  // so that nsrun's death reads as EOF (see Sandbox::create)
        run_joined_child(plan);
    }
    Sandbox joined(pid, UniqueFd(pidfd), std::move(parent_end));
    child_end.reset();
    log.step("started the joining process (pid " + std::to_string(pid) + ")");
    return joined;
}

}  // namespace nsrun::runtime
