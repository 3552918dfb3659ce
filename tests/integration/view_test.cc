// The sandbox's own view (runtime/view.h), attacked from inside a sandbox root starts with the defaults, the
// way an untrusted program would, harming nothing: every write puts back the value that is already there,
// every device is opened and closed. Then the ordinary work the same view must leave working.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;


// "NAME: RESULT" lines as a map.
std::map<std::string, std::string> Outcomes(const std::string& text) {
    std::map<std::string, std::string> results;
    for (auto& line : Lines(text)) {
        auto colon = line.find(": ");
        if (colon != std::string::npos) results[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return results;
}

// Writes each file's own content back (for a [selected] word list such as transparent_hugepage/enabled, the
// selected word) and prints "FILE: written" or "FILE: refused: ERROR".
constexpr const char* kWriteBack = R"SH(
for f in "$@"; do
  v=$(cat "$f") || { echo "$f: unreadable"; continue; }
  case $v in *\[*\]*) v=${v#*[}; v=${v%%]*} ;; esac
  if printf '%s\n' "$v" 2>/tmp/err >"$f"; then echo "$f: written"; else echo "$f: refused: $(cat /tmp/err)"; fi
done
)SH";

class ViewTest : public LabTest {
protected:
    Result Sh(const Argv& options, const std::string& script, const Argv& args = {}) {
        Argv full = options;
        full.insert(full.end(), {"--", "sh", "-c", script, "sh"});
        full.insert(full.end(), args.begin(), args.end());
        return lab().RunNsrun(full);
    }
};

TEST_F(ViewTest, SysctlsCannotBeWrittenBack) {
    const Argv files{"/proc/sys/kernel/core_pattern", "/proc/sys/vm/overcommit_memory", "/proc/sys/kernel/hostname"};
    Result r = Sh({}, kWriteBack, files);
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    for (const auto& file : files)
        EXPECT_THAT(outcomes[file], HasSubstr("Read-only file system")) << file << "\n" << r.Describe();
}

TEST_F(ViewTest, HostDevicesAreAbsent) {
    const Argv devices{"/dev/kvm",  "/dev/kmsg",        "/dev/mem",  "/dev/vcs1",
                       "/dev/loop-control", "/dev/fuse", "/dev/userfaultfd", "/dev/console", "/dev/vda", "/dev/loop0"};
    int on_host = 0;
    for (const auto& device : devices) on_host += fs::exists(device);
    ASSERT_GE(on_host, 4) << "the host has too few of these devices for the test to mean anything";
    Result r = Sh({}, R"SH(
for d in "$@"; do
  if [ -e "$d" ]; then (exec 3<"$d") 2>/dev/null && echo "$d: OPENED" || echo "$d: present"; else echo "$d: absent"; fi
done
ls /dev
)SH", devices);
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    for (const auto& device : devices) EXPECT_EQ(outcomes[device], "absent") << device << "\n" << r.Describe();
    std::vector<std::string> listed;
    for (auto& line : Lines(r.out))
        if (line.find(':') == std::string::npos) listed.push_back(line);
    EXPECT_THAT(listed, ElementsAre("fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout",
                                    "tty", "urandom", "zero"))
        << r.Describe();
}

TEST_F(ViewTest, DevBindHandsOverOneDevice) {
    Result r = Sh({"--dev-bind=/dev/zero:/dev/sub/zero", "--dev-bind=/dev/loop-control"},
                  "head -c 3 /dev/sub/zero | od -An -tx1; stat -c '%t:%T' /dev/loop-control; ls /dev/kvm");
    EXPECT_EQ(r.out, " 00 00 00\na:ed\n") << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("/dev/kvm")) << "only the named devices: " << r.Describe();
    for (const char* bad : {"--dev-bind=/etc/passwd:/dev/passwd", "--dev-bind=/dev/zero:/etc/zero",
                            "--dev-bind=/dev/zero:/dev/../zero", "--dev-bind=/dev/nsrun-none"}) {
        SCOPED_TRACE(bad);
        Result b = lab().RunNsrun({bad, "--", "true"});
        EXPECT_EQ(b.status, 125) << b.Describe();
        EXPECT_TRUE(IsOneNsrunErrorLine(b.err)) << b.Describe();
    }
}

TEST_F(ViewTest, SysfsCannotBeWrittenBack) {
    std::string queue;
    for (auto& entry : fs::directory_iterator("/sys/block"))
        if (fs::exists(entry.path() / "queue/read_ahead_kb")) queue = entry.path() / "queue/read_ahead_kb";
    ASSERT_FALSE(queue.empty()) << "no block device with a queue";
    const Argv files{"/sys/kernel/mm/transparent_hugepage/enabled", queue};
    for (const auto& file : files) ASSERT_TRUE(fs::exists(file)) << file;
    Result r = Sh({}, kWriteBack, files);
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    for (const auto& file : files)
        EXPECT_THAT(outcomes[file], HasSubstr("Read-only file system")) << file << "\n" << r.Describe();
    Result firmware = Sh({}, "ls -A /sys/firmware | wc -l");
    EXPECT_EQ(firmware.out, "0\n") << firmware.Describe();
}

// A cgroup of the test's own on the host's cgroup2 hierarchy: the sandbox sees it but can neither write its
// limit back nor move itself into it. Outside the lab: `ip netns exec` gives the lab host a sysfs without the
// host's cgroup mounts, and --net=none touches no network.
TEST_F(ViewTest, HostCgroupsCannotBeWrittenOrJoined) {
    std::string root = fs::exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    ASSERT_TRUE(fs::exists(root + "/cgroup.controllers")) << "no cgroup2 hierarchy on this host";
    const std::string group = root + "/nsrun-view-" + UniqueToken();
    ASSERT_TRUE(fs::create_directory(group));
    Result r = RunCmd({NSRUN_BIN, "--", "sh", "-c", "group=$1; set -- \"$group/cgroup.max.descendants\"" +
                                                        std::string(kWriteBack) + R"SH(
echo $$ 2>/tmp/err >"$group/cgroup.procs" && echo "move: written" || echo "move: refused: $(cat /tmp/err)"
)SH", "sh", group});
    ::rmdir(group.c_str());
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    EXPECT_THAT(outcomes[group + "/cgroup.max.descendants"], HasSubstr("Read-only file system")) << r.Describe();
    EXPECT_THAT(outcomes["move"], HasSubstr("Read-only file system")) << r.Describe();
    // A cgroup namespace of its own gets a cgroup2 of its own, read-only too.
    Result own = RunCmd({NSRUN_BIN, "--unshare=cgroup", "--", "sh", "-c",
                         "stat -f -c %T /sys/fs/cgroup; echo $$ > /sys/fs/cgroup/cgroup.procs"});
    EXPECT_EQ(own.out, "cgroup2fs\n") << own.Describe();
    EXPECT_THAT(own.err, HasSubstr("Read-only file system")) << own.Describe();
}

// Root's 0600 segment, made in a throwaway ipc namespace of the test's (unshare --ipc) so the machine's own
// is untouched: the host side sees it, the sandbox neither sees nor attaches it.
TEST_F(ViewTest, RootsSharedMemoryIsOutOfReach) {
    const std::string script = R"SH(
set -u
id=$(ipcmk -M 4096 -p 0600 | sed -n 's/^Shared memory id: //p')
[ -n "$id" ] || exit 99
ipcs -m | awk -v id="$id" '$2 == id { print "host: seen" }'
"$1" -- sh -c 'ipcs -m | awk -v id="$0" '\''$2 == id { print "sandbox: seen" }'\''
python3 -c "
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
p = libc.shmat(int(sys.argv[1]), None, 0)
print(\"attach:\", \"refused\" if p in (None, 2**64 - 1) else \"ATTACHED\", ctypes.get_errno())
" "$0"' "$id"
ipcrm -m "$id"
)SH";
    Result r = lab().Host({"unshare", "--ipc", "sh", "-c", script, "sh", NSRUN_BIN});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("host: seen\n")) << "control\n" << r.Describe();
    EXPECT_THAT(r.out, Not(HasSubstr("sandbox: seen"))) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("attach: refused 22\n")) << r.Describe();
}

// In a uts namespace of the test's own, so that a broken nsrun could not rename the machine.
TEST_F(ViewTest, SettingTheHostnameInsideLeavesTheHosts) {
    const std::string script = R"SH(
hostname nsrun-view-outer
"$1" -- sh -c 'hostname attacker 2>/dev/null; echo "no caps: $(hostname)"'
"$1" --cap-add=sys_admin -- sh -c 'hostname attacker; echo "sys_admin: $(hostname)"'
echo "outer: $(hostname)"
)SH";
    Result r = lab().Host({"unshare", "--uts", "sh", "-c", script, "sh", NSRUN_BIN});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "no caps: nsrun-view-outer\nsys_admin: attacker\nouter: nsrun-view-outer\n") << r.Describe();
}

TEST_F(ViewTest, KernelMemoryKeysAndTimersAreMasked) {
    ASSERT_FALSE(ReadFile("/proc/timer_list").empty()) << "control: the host's timer_list has content";
    Result r = Sh({}, R"SH(
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
  if [ -e "$f" ]; then echo "$f: $(stat -L -c %t:%T "$f") $(head -c 100 "$f" | wc -c) bytes"; else echo "$f: absent"; fi
done
for d in /proc/acpi /proc/scsi; do [ -e $d ] && echo "$d: $(ls -A $d | wc -l) entries" || echo "$d: absent"; done
)SH");
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    for (const char* file : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}) {
        bool on_host = fs::exists(file);
        EXPECT_EQ(outcomes[file], on_host ? "1:3 0 bytes" : "absent") << file << "\n" << r.Describe();
    }
    for (const char* dir : {"/proc/acpi", "/proc/scsi"})
        EXPECT_EQ(outcomes[dir], fs::exists(dir) ? "0 entries" : "absent") << dir << "\n" << r.Describe();
}

TEST_F(ViewTest, IpAndSysfsShowOnlyTheSandboxsInterfaces) {
    Result host = lab().Host({"ls", "/sys/class/net"});
    ASSERT_THAT(Lines(host.out), ::testing::Contains("uplink")) << "control: " << host.Describe();
    Result r = lab().RunNsrun(Nat({"sh", "-c", "ip -o link | cut -d: -f2 | tr -d ' '; echo ==; ls /sys/class/net"}));
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(Lines(r.out), ElementsAre("lo", ::testing::StartsWith("eth0@"), "==", "eth0", "lo"))
        << r.Describe();
}

// ---- ordinary work in the same view ----

TEST_F(ViewTest, TmpDevShmAndRunArePrivateAndWritable) {
    const std::string name = "nsrun-view-" + UniqueToken();
    Result r = Sh({"--setenv=NAME=" + name}, R"SH(
for d in /tmp /var/tmp /dev/shm /run; do echo x > "$d/$NAME" && echo "$d: written"; done
echo hi > /dev/null && head -c 16 /dev/urandom | wc -c
ls -A /run
)SH");
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "/tmp: written\n/var/tmp: written\n/dev/shm: written\n/run: written\n16\n" + name + "\n")
        << "/run holds nothing of the host's (no /run/nsrun)\n" << r.Describe();
    for (const char* dir : {"/tmp", "/var/tmp", "/dev/shm", "/run"})
        EXPECT_FALSE(fs::exists(std::string(dir) + "/" + name)) << dir << " is the host's";
    // Sticky and open to everyone, as on a host.
    Result nobody = Sh({"--user=nobody"}, "for d in /tmp /var/tmp /dev/shm; do echo x > $d/f && echo \"$d: written\"; done");
    EXPECT_EQ(nobody.out, "/tmp: written\n/var/tmp: written\n/dev/shm: written\n") << nobody.Describe();
}

// --tmpfs, --bind and --ro-bind come after the view, so they land on top of it; --read-only leaves the
// view's own places writable (they are not the host's).
TEST_F(ViewTest, OptionMountsLandOnTopOfTheViewAndReadOnlyKeepsItsPlacesWritable) {
    ScratchPath dir("view-bind");
    ASSERT_TRUE(fs::create_directory(dir.path()));
    std::ofstream(dir.path() + "/host-file") << "from the host\n";
    Result r = Sh({"--bind=" + dir.path() + ":/tmp", "--ro-bind=" + dir.path() + ":/run"},
                  "cat /tmp/host-file && echo new > /tmp/new; ls /run; echo x > /run/f 2>/dev/null || echo run-read-only");
    EXPECT_EQ(r.out, "from the host\nhost-file\nnew\nrun-read-only\n") << r.Describe();
    EXPECT_EQ(ReadFile(dir.path() + "/new"), "new\n");
    fs::remove_all(dir.path());
    Result ro = Sh({"--read-only"}, "for d in /tmp /var/tmp /dev/shm /run; do echo x > $d/f && echo \"$d: written\"; done");
    EXPECT_EQ(ro.out, "/tmp: written\n/var/tmp: written\n/dev/shm: written\n/run: written\n") << ro.Describe();
}

// A bind below the view's private places needs no --tmpfs first (bubblewrap's way): its missing mount point is
// made in the sandbox's own tmpfs; in the host's tree it is not (the host's files are not the sandbox's).
TEST_F(ViewTest, ABindBelowThePrivatePlacesMakesItsMountPoint) {
    ScratchPath dir("view-point");
    ASSERT_TRUE(fs::create_directory(dir.path()));
    std::ofstream(dir.path() + "/host-file") << "from the host\n";
    Result r = Sh({"--bind=" + dir.path() + ":/tmp/project/src", "--ro-bind=" + dir.path() + "/host-file:/run/app/conf"},
                  "cat /tmp/project/src/host-file /run/app/conf");
    EXPECT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "from the host\nfrom the host\n") << r.Describe();
    const std::string missing = "/var/lib/nsrun-missing-" + UniqueToken();
    Result host = Sh({"--bind=" + dir.path() + ":" + missing}, "true");
    EXPECT_EQ(host.status, 125) << host.Describe();
    EXPECT_EQ(host.err, "nsrun: --bind " + missing + ": No such file or directory\n");
    EXPECT_FALSE(fs::exists(missing)) << "a mount point in the host's tree";
    fs::remove_all(dir.path());
}

// A program in the host's /tmp is not in the sandbox's: one clear line before anything starts, and it runs
// when handed over with --ro-bind.
TEST_F(ViewTest, AProgramInTheHostsTmpIsNamedAsOutOfSightUnlessBound) {
    const std::string dir = "/tmp/nsrun-view-prog-" + UniqueToken();
    ASSERT_TRUE(fs::create_directory(dir));
    const std::string program = dir + "/hello";
    std::ofstream(program) << "#!/bin/sh\necho \"hello from the host's tmp\"\n";
    fs::permissions(program, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    Result hidden = lab().RunNsrun({"--", program});
    EXPECT_EQ(hidden.status, 125) << hidden.Describe();
    EXPECT_EQ(hidden.err, "nsrun: executing " + program + ": " + program +
                              " is in the host's /tmp, /var/tmp or /run, which the sandbox has its own of: hand it "
                              "over with --ro-bind=" + program + ", or keep it elsewhere\n");
    Result bound = lab().RunNsrun({"--ro-bind=" + program, "--", program});
    EXPECT_EQ(bound.status, 0) << bound.Describe();
    EXPECT_EQ(bound.out, "hello from the host's tmp\n");
    fs::remove_all(dir);
}

// The working directory is looked up again by its path in the view: started from the host's /dev the
// program is in the sandbox's /dev, and from a directory under the host's /tmp (which the sandbox does not
// have) in $HOME, never in the covered host directory.
TEST_F(ViewTest, TheWorkingDirectoryIsLookedUpInTheView) {
    ASSERT_TRUE(fs::exists("/dev/kvm") || fs::exists("/dev/kmsg")) << "nothing to find in the host's /dev";
    const std::string probe = "pwd; for f in kvm kmsg host-file; do [ -e $f ] && echo \"$f: reachable\"; done; true";
    Process from_dev(lab().Nsrun({"--setenv=HOME=/var", "--", "sh", "-c", probe}), {}, "/dev");
    Result dev = from_dev.Wait(30s);
    EXPECT_EQ(dev.out, "/dev\n") << dev.Describe();
    const std::string dir = "/tmp/nsrun-view-cwd-" + UniqueToken();
    ASSERT_TRUE(fs::create_directory(dir));
    std::ofstream(dir + "/host-file") << "";
    Process from_tmp(lab().Nsrun({"--setenv=HOME=/var", "--", "sh", "-c", probe}), {}, dir);
    Result tmp = from_tmp.Wait(30s);
    fs::remove_all(dir);
    EXPECT_EQ(tmp.out, "/var\n") << tmp.Describe();
}

// nsrun -- sh -i on a real terminal (python3's pty): tty(1) names it, a background job is listed and killed,
// a window size set from outside is seen inside.
constexpr const char* kInteractive = R"PY(
import fcntl, os, pty, select, struct, sys, termios, time
pid, master = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def run(command, marker):
    global out
    if command:
        os.write(master, command.encode() + b"\n")
    end = time.monotonic() + 10
    while time.monotonic() < end and marker.encode() not in out:
        if select.select([master], [], [], 0.1)[0]:
            try:
                out += os.read(master, 4096)
            except OSError:
                break
run("", "# ")  # the first prompt: the shell has set up the terminal
run("tty; echo T-$((1+1))", "T-2\r\n")
run("sleep 30 & jobs; echo J-$((1+2))", "J-3\r\n")
run("kill -9 %1; wait; echo K-$((1+3))", "K-4\r\n")
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
run("stty size; echo S-$((1+4))", "S-5\r\n")
run("exit", "never")
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
)PY";

TEST_F(ViewTest, ATerminalKeepsTtyJobControlAndResize) {
    Result r = lab().Host({kPython, "-I", "-c", kInteractive, NSRUN_BIN, "--", "sh", "-i"}, 60s);
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("/dev/console\nT-2\n")) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("[1] + Running")) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("Killed")) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("33 111\nS-5\n")) << r.Describe();
}

// With systemd-resolved, /etc/resolv.conf is a link into /run, which the sandbox has a private one of: the
// lab's stub mode gives the host /run/systemd/resolve, and an overlay on /etc (in the lab's own mount
// namespace) makes the link.
class ViewStubResolverTest : public ViewTest {
protected:
    Argv LabOptions() const override { return {"--resolver", "stub"}; }
};

TEST_F(ViewStubResolverTest, AResolvConfLinkedIntoRunStillReads) {
    std::ofstream(lab().dir() + "/resolve/stub-resolv.conf") << "nameserver 127.0.0.53\noptions edns0\n";
    fs::create_directory(lab().dir() + "/etc-ovl");
    const std::string script = R"SH(
set -e
nsrun=$1 dir=$2
mount -t tmpfs lab-etc "$dir/etc-ovl"
mkdir "$dir/etc-ovl/upper" "$dir/etc-ovl/work"
ln -s ../run/systemd/resolve/stub-resolv.conf "$dir/etc-ovl/upper/resolv.conf"
mount -t overlay lab-etc -o "lowerdir=/etc,upperdir=$dir/etc-ovl/upper,workdir=$dir/etc-ovl/work" /etc
readlink /etc/resolv.conf
echo "none: $("$nsrun" -- cat /etc/resolv.conf | tr '\n' ' ')"
echo "host: $("$nsrun" --net=host -- cat /etc/resolv.conf | tr '\n' ' ')"
echo "nat: $("$nsrun" --net=nat --subnet=203.0.113.0/24 --ipv6=off -- sh -c 'grep ^nameserver /etc/resolv.conf; getent ahostsv4 example.com | head -n1')"
)SH";
    Result r = lab().Host({"sh", "-c", script, "sh", NSRUN_BIN, lab().dir()});
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto outcomes = Outcomes(r.out);
    EXPECT_THAT(r.out, ::testing::StartsWith("../run/systemd/resolve/stub-resolv.conf\n")) << r.Describe();
    EXPECT_EQ(outcomes["none"], "nameserver 127.0.0.53 options edns0 ") << r.Describe();
    EXPECT_EQ(outcomes["host"], "nameserver 127.0.0.53 options edns0 ") << r.Describe();
    EXPECT_THAT(outcomes["nat"], HasSubstr("nameserver 198.51.100.53")) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("198.51.100.80")) << "example.com resolved\n" << r.Describe();
}

// ---- rootless ----

TEST_F(ViewTest, RootlessGetsTheSameView) {
    PublicCopy nsrun(NSRUN_BIN);
    const std::string probe = std::string(kWriteBack) + R"SH(
ls /dev | tr '\n' ' '; echo
echo x > /tmp/f && echo x > /dev/shm/f && echo "tmp: written"
ls /sys/class/net | tr '\n' ' '; echo
)SH";
    for (const char* net : {"--net=none", "--net=host"}) {
        SCOPED_TRACE(net);
        Argv argv{"env", "-C", "/", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                  nsrun.path(), net, "--", "sh", "-c", probe, "sh", "/proc/sys/kernel/core_pattern",
                  "/sys/kernel/mm/transparent_hugepage/enabled"};
        Result r = lab().Host(argv);
        ASSERT_EQ(r.status, 0) << r.Describe();
        auto outcomes = Outcomes(r.out);
        EXPECT_THAT(outcomes["/proc/sys/kernel/core_pattern"], HasSubstr("Read-only file system")) << r.Describe();
        EXPECT_THAT(outcomes["/sys/kernel/mm/transparent_hugepage/enabled"], HasSubstr("Read-only file system"))
            << r.Describe();
        EXPECT_THAT(r.out, HasSubstr("fd full null ptmx pts random shm stderr stdin stdout tty urandom zero \n"))
            << r.Describe();
        EXPECT_THAT(r.out, HasSubstr("tmp: written\n")) << r.Describe();
        // Its own network's sysfs; the host's (read-only) where the kernel refuses one.
        EXPECT_THAT(r.out, HasSubstr(std::string(net) == "--net=none" ? "\nlo \n" : "uplink")) << r.Describe();
    }
}

}  // namespace
}  // namespace nsrun::testing
