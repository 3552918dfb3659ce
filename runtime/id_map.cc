#include "runtime/id_map.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "base/error.h"
#include "base/files.h"
#include "base/proc_path.h"
#include "base/unique_fd.h"

namespace nsrun::runtime {
namespace {

void write_proc_file(pid_t pid, const char* name, const std::string& content) {
    std::string path = proc_path(pid, name);
    write_file(path, content, "writing " + path);
}

}  // namespace

void write_id_maps(pid_t pid, uid_t uid, gid_t gid) {
    write_proc_file(pid, "setgroups", "deny");
    write_proc_file(pid, "uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
    write_proc_file(pid, "gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
}

}  // namespace nsrun::runtime
