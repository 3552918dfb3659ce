#include "runtime/net_only.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/netns_members.h"
#include "runtime/child_report.h"
#include "runtime/exit_status.h"
#include "runtime/mounts.h"

namespace nsrun::runtime {

void prepare_net_only_mounts(const ChildPlan& plan) {
    int channel = plan.channel_fd;
    if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
        report_and_exit(channel, kStatusNsrunError, errno, "making the sandbox's mounts follow the host's");
    if (plan.new_network) {
        // sysfs shows the network namespace of whoever mounts it: the sandbox's interfaces, not the host's.
        struct statvfs host_sys{};
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (::statvfs("/sys", &host_sys) == 0 && (host_sys.f_flag & ST_RDONLY)) flags |= MS_RDONLY;
        if (::umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL)
            report_and_exit(channel, kStatusNsrunError, errno, "unmounting the host's /sys in the sandbox");
        if (::mount("sysfs", "/sys", "sysfs", flags, nullptr) < 0)
            report_and_exit(channel, kStatusNsrunError, errno, "mounting /sys for the sandbox's network namespace");
    }
    if (plan.resolv_conf)
        if (int err = mount_resolv_conf(plan.resolv_conf, plan.resolv_conf_size))
            report_and_exit(channel, kStatusNsrunError, err, "mounting the sandbox's /etc/resolv.conf");
}

bool supervisor_gone(const ChildPlan& plan) { return ::getppid() != plan.supervisor; }

void end_net_only(const ChildPlan& plan, int status) {
    // Never the host's namespace (Sandbox::create refuses --net-only without a network namespace of its own).
    int netns = plan.new_network ? ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
    if (netns >= 0) kill_netns_members(netns);
    // The killed descendants that were reparented here.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    _exit(status);
}

}  // namespace nsrun::runtime
