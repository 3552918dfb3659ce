// Root's sandbox is nobody to the host: the program started by root with the defaults attacks the host the
// way an untrusted one would (each attack must be refused), then does ordinary work (each must work), and the
// id block behaves as a lease (distinct while held, free again after SIGKILL). Every host-side fixture lives
// under /var/lib, outside the directories a sandbox gets private copies of (/tmp, /var/tmp, /run, /dev).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "lab.h"

namespace nsrun::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Pools of the tests' own, above the default pool, so sandboxes of other tests never hold their blocks.
constexpr const char* kOneBlockPool = "--id-pool=0x70000000-0x70010000";
constexpr const char* kTwoBlockPool = "--id-pool=0x70100000-0x70120000";

// A root-owned 0755 directory under /var/lib, removed with everything in it.
class HostDir {
public:
    HostDir() {
        char tmpl[] = "/var/lib/nsrun-idt-XXXXXX";
        if (!::mkdtemp(tmpl)) {
            ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
            return;
        }
        path_ = tmpl;
        ::chmod(path_.c_str(), 0755);
    }
    ~HostDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// "0 BASE 65536" of /proc/self/uid_map, as the BASE.
long BlockBase(const std::string& uid_map_line) {
    std::istringstream in(uid_map_line);
    long inside = -1, base = -1, count = -1;
    in >> inside >> base >> count;
    return inside == 0 && count == 65536 ? base : -1;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// A unix socket server on the host: SOCKET answers every connection with "uid=N" of the peer (SO_PEERCRED).
constexpr const char* kPeerServer = R"PY(
import os, socket, struct, sys
servers = []
for path, mode in ((sys.argv[1], 0o777), (sys.argv[2], 0o777)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, mode)
    s.listen(8)
    servers.append(s)
print("ready", flush=True)
import select
for _ in range(40):
    ready, _, _ = select.select(servers, [], [], 30)
    if not ready:
        break
    for s in ready:
        c, _ = s.accept()
        pid, uid, gid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        c.sendall(b"uid=%d\n" % uid)
        c.close()
)PY";

// Each attack prints "NAME refused" or "NAME ALLOWED"; "peer" prints the uid the open socket's server saw.
constexpr const char* kAttacks = R"SH(
try() { name=$1; shift; if "$@" 2>/dev/null; then echo "$name ALLOWED"; else echo "$name refused"; fi; }
connect() { "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); sys.stdout.write(s.recv(64).decode())' "$1"; }
try root-socket connect "$FIX/private/sock"
echo "peer $(connect "$FIX/open/sock")"
try core-pattern sh -c 'cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern'
bin=$(tr '\0' '\n' < /proc/1/cmdline | head -n1)
echo "binary $bin"
try plant sh -c "echo planted > '$(dirname "$bin")/planted'"
try rename-binary-dir mv "$(dirname "$bin")" "$(dirname "$bin").moved"
try root-file sh -c "echo changed >> '$FIX/rootfile'"
head -n1 /proc/self/uid_map
)SH";

class IdentityTest : public LabTest {
protected:
    // Starts the peer server on two sockets of `fixture`: private/sock (in a 0700 root directory) and
    // open/sock (world-open).
    Process StartPeerServer(const HostDir& fixture) {
        fs::create_directory(fixture / "private");
        fs::create_directory(fixture / "open");
        ::chmod((fixture / "private").c_str(), 0700);
        ::chmod((fixture / "open").c_str(), 0777);
        Process server({kPython, "-c", kPeerServer, fixture / "private/sock", fixture / "open/sock"});
        EXPECT_TRUE(server.WaitForOutput("ready", 10s)) << server.err();
        return server;
    }
    // The attack script run by the nsrun copy at `nsrun` with `options`.
    Result Attack(const std::string& nsrun, const HostDir& fixture, const Argv& options) {
        Argv argv{nsrun};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.insert(argv.end(), {"--setenv=FIX=" + fixture.path(), std::string("--setenv=PY=") + kPython, "--", "sh",
                                 "-c", kAttacks});
        return lab().Host(argv);
    }
};

// The attack table of README's security model, with the defaults, and against --host-identity to show that
// each attack is real.
TEST_F(IdentityTest, RootsDefaultSandboxIsNobodyToTheHost) {
    HostDir fixture;
    fs::create_directory(fixture / "bin");
    fs::copy_file(NSRUN_BIN, fixture / "bin/nsrun");
    ::chmod((fixture / "bin/nsrun").c_str(), 0755);
    WriteFile(fixture / "rootfile", "original\n");
    ::chmod((fixture / "rootfile").c_str(), 0644);
    const std::string core_pattern = ReadFile("/proc/sys/kernel/core_pattern");
    Process server = StartPeerServer(fixture);

    Result r = Attack(fixture / "bin/nsrun", fixture, {});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("binary " + (fixture / "bin/nsrun") + "\n")) << r.Describe();
    for (const char* attack : {"root-socket", "core-pattern", "plant", "rename-binary-dir", "root-file"})
        EXPECT_THAT(r.out, HasSubstr(std::string(attack) + " refused\n")) << r.Describe();
    auto lines = Lines(r.out);
    long base = BlockBase(lines.back());
    ASSERT_GT(base, 0) << r.Describe();
    EXPECT_THAT(r.out, HasSubstr("peer uid=" + std::to_string(base) + "\n")) << r.Describe();
    EXPECT_EQ(ReadFile(fixture / "rootfile"), "original\n");
    EXPECT_TRUE(fs::exists(fixture / "bin/nsrun"));
    EXPECT_FALSE(fs::exists(fixture / "bin/planted"));
    EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern"), core_pattern);

    // The same as the host's root: the socket attack goes through, so its refusal above is the identity's
    // doing; a sysctl stays refused even then, by the view's read-only /proc/sys (view_test.cc).
    Result host = Attack(fixture / "bin/nsrun", fixture, {"--host-identity"});
    ASSERT_EQ(host.status, 0) << host.Describe();
    EXPECT_THAT(host.out, HasSubstr("root-socket ALLOWED\n")) << host.Describe();
    EXPECT_THAT(host.out, HasSubstr("core-pattern refused\n")) << host.Describe();
    EXPECT_THAT(host.out, HasSubstr("peer uid=0\n")) << host.Describe();
    EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern"), core_pattern);
}

// ---- ordinary work ----

TEST_F(IdentityTest, PythonWithSubprocessRunsAsRootInside) {
    Result r = lab().RunNsrun({"--", kPython, "-c",
                               "import subprocess\n"
                               "print(subprocess.run(['id', '-u'], capture_output=True, text=True).stdout.strip())\n"
                               "print(open('/proc/self/uid_map').read().split()[1])"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    auto lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.Describe();
    EXPECT_EQ(lines[0], "0");
    EXPECT_NE(lines[1], "0") << "uid 0 inside must not be the host's uid 0";
}

// A compiler writes its object into a writable --bind: the files are the caller's on the host (root, or
// SUDO_UID under sudo), and files already there keep their owners inside.
TEST_F(IdentityTest, ACompilerWritesIntoABindAsTheCaller) {
    HostDir work;
    WriteFile(work / "main.c", "int main(void) { return 7; }\n");
    WriteFile(work / "theirs", "");
    ::chown((work / "theirs").c_str(), 4321, 4322);
    const std::string script = "stat -c '%u:%g' theirs; cc -o prog main.c && ./prog; echo status=$?";
    // Not under sudo, whatever the test runs under.
    Result r = lab().Host({"env", "-u", "SUDO_UID", "-u", "SUDO_GID", NSRUN_BIN, "--bind=" + work.path(),
                           "--chdir=" + work.path(), "--", "sh", "-c", script});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "4321:4322\nstatus=7\n") << r.Describe();
    struct stat st{};
    ASSERT_EQ(::stat((work / "prog").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);

    // Under sudo: the caller's files are root's inside, and what root writes there is the caller's.
    ::chown(work.path().c_str(), 1234, 1235);
    ::chown((work / "main.c").c_str(), 1234, 1235);
    fs::remove(work / "prog");
    Result sudo = lab().RunNsrun({"--bind=" + work.path(), "--chdir=" + work.path(), "--", "sh", "-c",
                                  "stat -c '%u:%g' main.c; " + script},
                                 30s, {"SUDO_UID=1234", "SUDO_GID=1235"});
    ASSERT_EQ(sudo.status, 0) << sudo.Describe();
    EXPECT_EQ(sudo.out, "0:0\n4321:4322\nstatus=7\n") << sudo.Describe();
    ASSERT_EQ(::stat((work / "prog").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 1235u);
}

TEST_F(IdentityTest, ReadOnlyLeavesABindWritable) {
    HostDir work;
    HostDir other;
    Result r = lab().RunNsrun({"--read-only", "--bind=" + work.path(), "--", "sh", "-c",
                               "echo ok > " + (work / "made") + " && echo bind-writable; echo x > " +
                                   (other / "made") + " || echo rest-read-only"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "bind-writable\nrest-read-only\n") << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
    EXPECT_EQ(ReadFile(work / "made"), "ok\n");
    EXPECT_FALSE(fs::exists(other / "made"));
}

TEST_F(IdentityTest, ARoBindIsReadOnlyWhateverTheIdentity) {
    HostDir work;
    for (const Argv& identity : {Argv{}, Argv{"--host-identity"}, Argv{"--host-identity", "--unshare=user"}}) {
        SCOPED_TRACE(::testing::PrintToString(identity));
        Argv args = identity;
        args.insert(args.end(), {"--ro-bind=" + work.path(), "--", "touch", work / "made"});
        Result r = lab().RunNsrun(args);
        EXPECT_EQ(r.status, 1) << r.Describe();
        EXPECT_THAT(r.err, HasSubstr("Read-only file system")) << r.Describe();
        EXPECT_FALSE(fs::exists(work / "made"));
    }
}

// The bind's source is looked up before the tmpfs covers it, and its missing mount point is made inside the
// tmpfs; the working directory is entered again, so the program sees the tmpfs over it.
TEST_F(IdentityTest, ABindUnderATmpfsWorks) {
    HostDir covered;
    WriteFile(covered / "data", "from the host\n");
    fs::create_directory(covered / "src");
    WriteFile(covered / "src/file", "source\n");
    Result r = lab().Host({"env", "-C", covered.path(), NSRUN_BIN, "--tmpfs=" + covered.path(),
                           "--bind=" + (covered / "src") + ":" + (covered / "a/b"), "--", "sh", "-c",
                           "cat a/b/file; ls"});
    ASSERT_EQ(r.status, 0) << r.Describe();
    EXPECT_EQ(r.out, "source\na\n") << r.Describe();
    EXPECT_FALSE(fs::exists(covered / "a")) << "the mount point was made on the host";
}

// proc cannot be idmapped: a writable bind of it is refused with one line that names the file system and the
// way out, and starts nothing; read-only it is shown without the map.
TEST_F(IdentityTest, ABindThatCannotBeIdmappedIsOneClearLine) {
    Result r = lab().RunNsrun({"--bind=/proc/sys/kernel:/mnt", "--", "echo", "started"});
    EXPECT_EQ(r.status, 125) << r.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(r.err)) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("--bind /proc/sys/kernel: its file system (proc")) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("--host-identity")) << r.Describe();
    EXPECT_EQ(r.out, "");
    Result ro = lab().RunNsrun({"--ro-bind=/proc/sys/kernel:/mnt", "--", "cat", "/mnt/ostype"});
    EXPECT_EQ(ro.status, 0) << ro.Describe();
    EXPECT_EQ(ro.out, "Linux\n") << ro.Describe();
}

// ---- the block as a lease ----

TEST_F(IdentityTest, ConcurrentSandboxesGetDistinctBlocks) {
    const Argv program{"sh", "-c", "head -n1 /proc/self/uid_map; echo up; exec sleep 30"};
    Argv args{kTwoBlockPool, "--"};
    args.insert(args.end(), program.begin(), program.end());
    Process first(lab().Nsrun(args)), second(lab().Nsrun(args));
    ASSERT_TRUE(first.WaitForOutput("up", 10s)) << first.err();
    ASSERT_TRUE(second.WaitForOutput("up", 10s)) << second.err();
    long a = BlockBase(FirstLine(first.out())), b = BlockBase(FirstLine(second.out()));
    EXPECT_GE(a, 0x70100000);
    EXPECT_GE(b, 0x70100000);
    EXPECT_NE(a, b);
    // Both blocks held: a third launch is refused, clearly, and starts nothing.
    Result third = lab().RunNsrun({kTwoBlockPool, "--", "true"});
    EXPECT_EQ(third.status, 125) << third.Describe();
    EXPECT_THAT(third.err, HasSubstr("are all held by running sandboxes")) << third.Describe();
    EXPECT_TRUE(IsOneNsrunErrorLine(third.err));
}

TEST_F(IdentityTest, ASigkilledNsrunsBlockIsFreeAgain) {
    Process holder(lab().Nsrun({kOneBlockPool, "--", "sh", "-c", "echo up; exec sleep 30"}));
    ASSERT_TRUE(holder.WaitForOutput("up", 10s)) << holder.err();
    Result refused = lab().RunNsrun({kOneBlockPool, "--", "true"});
    ASSERT_EQ(refused.status, 125) << refused.Describe();
    holder.Signal(SIGKILL);
    Result killed = holder.Wait(10s);
    EXPECT_EQ(killed.status, 128 + SIGKILL) << killed.Describe();
    Result next = lab().RunNsrun({kOneBlockPool, "--", "sh", "-c", "head -n1 /proc/self/uid_map"});
    EXPECT_EQ(next.status, 0) << next.Describe();
    EXPECT_EQ(BlockBase(next.out), 0x70000000) << next.Describe();
}

TEST_F(IdentityTest, ExecLandsAsRootOfTheBlock) {
    const std::string name = "idt" + UniqueToken();
    Process sandbox(lab().Nsrun({"--name=" + name, "--", "sh", "-c", "head -n1 /proc/self/uid_map; echo up; exec sleep 30"}));
    ASSERT_TRUE(sandbox.WaitForOutput("up", 10s)) << sandbox.err();
    long base = BlockBase(FirstLine(sandbox.out()));
    ASSERT_GT(base, 0);
    Result joined = lab().RunNsrun({"exec", name, "--", "sh", "-c",
                                    "id -u; id -g; head -n1 /proc/self/uid_map; grep '^Groups:' /proc/self/status"});
    ASSERT_EQ(joined.status, 0) << joined.Describe();
    auto lines = Lines(joined.out);
    ASSERT_EQ(lines.size(), 4u) << joined.Describe();
    EXPECT_EQ(lines[0], "0");
    EXPECT_EQ(lines[1], "0");
    EXPECT_EQ(BlockBase(lines[2]), base);
    EXPECT_THAT(lines[3], Not(HasSubstr("65534"))) << "a host group the block does not map is still held";
    sandbox.Signal(SIGTERM);
    sandbox.Wait(10s);
}

}  // namespace
}  // namespace nsrun::testing
