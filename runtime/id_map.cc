#include "runtime/id_map.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "base/error.h"
#include "base/files.h"
#include "base/proc_path.h"
#include "base/unique_fd.h"
#include "runtime/id_block.h"

namespace nsrun::runtime {
namespace {

void write_proc_file(pid_t pid, const char* name, const std::string& content) {
    std::string path = proc_path(pid, name);
    write_file(path, content, "writing " + path);
}

std::string map_line(uint64_t inside, uint64_t outside, uint64_t count) {
    return std::to_string(inside) + " " + std::to_string(outside) + " " + std::to_string(count) + "\n";
}

// The holder of bind_user_namespace's namespace until its fd is open: it shares nsrun's memory (CLONE_VM), so
// it only waits, on a stack of its own, to be killed or to die with nsrun. Its copies of nsrun's descriptors
// go first: one of them holds the id block's lock, which must not outlive nsrun.
int hold_namespace(void* parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != *static_cast<pid_t*>(parent)) _exit(1);  // nsrun died before the line above
    ::syscall(SYS_close_range, 0U, ~0U, 0U);
    for (;;) ::pause();
}

}  // namespace

void write_id_maps(pid_t pid, uid_t uid, gid_t gid) {
    write_proc_file(pid, "setgroups", "deny");
    write_proc_file(pid, "uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
    write_proc_file(pid, "gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
}

void write_block_maps(pid_t pid, uint32_t base) {
    const std::string map = map_line(0, base, kIdBlockSize);
    write_proc_file(pid, "uid_map", map);
    write_proc_file(pid, "gid_map", map);
}

std::string bind_id_map(uint32_t base, uint32_t owner) {
    if (owner == 0) return map_line(0, base, kIdBlockSize);
    if (owner >= kIdBlockSize) return map_line(owner, base, 1) + map_line(1, uint64_t(base) + 1, kIdBlockSize - 1);
    std::string map = map_line(owner, base, 1) + map_line(0, uint64_t(base) + owner, 1);
    if (owner > 1) map += map_line(1, uint64_t(base) + 1, owner - 1);
    if (owner < kIdBlockSize - 1) map += map_line(owner + 1, uint64_t(base) + owner + 1, kIdBlockSize - 1 - owner);
    return map;
}

UniqueFd open_user_namespace(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("opening " + path);
    return fd;
}

UniqueFd bind_user_namespace(uint32_t base, uid_t uid, gid_t gid) {
    alignas(64) static char stack[16 * 1024];
    pid_t parent = ::getpid();
    pid_t pid = ::clone(hold_namespace, stack + sizeof stack, CLONE_VM | CLONE_NEWUSER | SIGCHLD, &parent);
    if (pid < 0) throw_errno("creating the user namespace of the idmapped binds");
    struct Reaper {
        pid_t pid;
        ~Reaper() {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    } reaper{pid};
    write_proc_file(pid, "uid_map", bind_id_map(base, uid));
    write_proc_file(pid, "gid_map", bind_id_map(base, gid));
    return open_user_namespace(pid);
}

}  // namespace nsrun::runtime
