// Capability names, and apply_capabilities() at work in forked children (as root; skipped otherwise).
#include "runtime/capabilities.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "base/error.h"
#include "gtest/gtest.h"

extern char** environ;

namespace {

// When this test binary is re-executed with NSRUN_TEST_BIND_PORT set, it only tries to bind that port and exits
// with 0 or the errno: a program exec'd after apply_capabilities(), showing what survived execve.
[[gnu::constructor]] void bind_port_helper() {
    const char* port = ::getenv("NSRUN_TEST_BIND_PORT");
    if (!port) return;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) _exit(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(std::atoi(port)));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    _exit(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno);
}

}  // namespace

namespace nsrun::runtime {
namespace {

constexpr uint64_t bit(int cap) { return uint64_t(1) << cap; }

std::string error_of(std::string_view list) {
    try {
        parse_capabilities(list);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(ParseCapabilities, Names) {
    EXPECT_EQ(parse_capabilities("net_bind_service").bits, bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(parse_capabilities("CAP_NET_BIND_SERVICE").bits, bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(parse_capabilities("Cap_Net_Bind_Service").bits, bit(CAP_NET_BIND_SERVICE));
    EXPECT_EQ(parse_capabilities("net_bind_service,CAP_SYS_TIME").bits,
              bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_TIME));
    EXPECT_EQ(parse_capabilities("chown").bits, bit(CAP_CHOWN));  // capability 0
    EXPECT_EQ(parse_capabilities("checkpoint_restore").bits, bit(CAP_CHECKPOINT_RESTORE));
    EXPECT_EQ(parse_capabilities("net_raw,NET_RAW,cap_net_raw").bits, bit(CAP_NET_RAW));  // duplicates
}

TEST(ParseCapabilities, All) {
    CapabilitySet all = parse_capabilities("all");
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) EXPECT_TRUE(all.contains(cap)) << cap;
    EXPECT_FALSE(all.contains(CAP_LAST_CAP + 1));
    EXPECT_EQ(parse_capabilities("ALL,net_raw"), all);
}

TEST(ParseCapabilities, Errors) {
    EXPECT_EQ(error_of("x"), "--cap-add: unknown capability 'x'");
    EXPECT_EQ(error_of("net_bind_service,foo"), "--cap-add: unknown capability 'foo'");
    EXPECT_EQ(error_of("CAP_"), "--cap-add: unknown capability 'CAP_'");
    EXPECT_EQ(error_of("cap_cap_chown"), "--cap-add: unknown capability 'cap_cap_chown'");
    EXPECT_EQ(error_of("10"), "--cap-add: unknown capability '10'");  // names only
    EXPECT_EQ(error_of(" net_raw"), "--cap-add: unknown capability ' net_raw'");
    EXPECT_EQ(error_of(std::string_view("net_raw\0x", 9)), "--cap-add: unknown capability 'net_raw\\x00x'");
    EXPECT_EQ(error_of(""), "--cap-add: empty list of capabilities");
    EXPECT_EQ(error_of("net_raw,,chown"), "--cap-add: empty capability name in the list");
    EXPECT_EQ(error_of("net_raw,"), "--cap-add: empty capability name in the list");
    EXPECT_EQ(error_of(",net_raw"), "--cap-add: empty capability name in the list");
}

TEST(CapabilityNames, Format) {
    EXPECT_EQ(capability_names({}), "none");
    EXPECT_EQ(capability_names({bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE)}), "chown,net_bind_service");
}

// ---------------------------------------------------------------------------------------------------------------
// apply_capabilities() in a child.

struct ChildResult {
    int status = -1;  // exit code, or 1000 + signal
    std::string output;
};

// Forks; `body` runs in the child with stdout on a pipe and should exit or exec.
ChildResult run_child(const std::function<void()>& body) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return {};
    pid_t pid = ::fork();
    if (pid < 0) return {};
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        body();
        _exit(0);
    }
    ::close(pipe_fds[1]);
    ChildResult result;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, size_t(n));
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
    return result;
}

// Copies /proc/self/status to stdout (no allocation: this runs in the child).
void dump_own_status() {
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    char buffer[4096];
    ssize_t n;
    while (fd >= 0 && (n = ::read(fd, buffer, sizeof buffer)) > 0) (void)!::write(STDOUT_FILENO, buffer, size_t(n));
    if (fd >= 0) ::close(fd);
}

// "CapEff" -> value, from the last occurrence of each Cap* line in `text`.
std::map<std::string, uint64_t> cap_lines(const std::string& text) {
    std::map<std::string, uint64_t> caps;
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(at, end - at);
        if (line.rfind("Cap", 0) == 0 && line.find(':') != std::string::npos) {
            size_t colon = line.find(':');
            caps[line.substr(0, colon)] = std::strtoull(line.c_str() + colon + 1, nullptr, 16);
        }
        at = end + 1;
    }
    return caps;
}

[[noreturn]] void exec_grep_status() {
    ::execl("/bin/grep", "grep", "^Cap", "/proc/self/status", nullptr);
    _exit(127);
}

class ApplyCapabilities : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    }
};

TEST_F(ApplyCapabilities, KeepNothing) {
    const std::string marker = "--- after exec ---\n";
    ChildResult r = run_child([&] {
        const char* step = nullptr;
        if (int err = apply_capabilities({}, &step); err < 0) _exit(-err);
        dump_own_status();
        (void)!::write(STDOUT_FILENO, marker.data(), marker.size());
        exec_grep_status();
    });
    ASSERT_EQ(r.status, 0) << r.output;
    size_t split = r.output.find(marker);
    ASSERT_NE(split, std::string::npos);
    for (const std::string& part : {r.output.substr(0, split), r.output.substr(split)}) {
        auto caps = cap_lines(part);
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
            ASSERT_TRUE(caps.count(set)) << part;
            EXPECT_EQ(caps[set], 0u) << set << "\n" << part;
        }
    }
}

TEST_F(ApplyCapabilities, KeepNetBindServiceAcrossExec) {
    ChildResult r = run_child([] {
        const char* step = nullptr;
        if (int err = apply_capabilities({bit(CAP_NET_BIND_SERVICE)}, &step); err < 0) _exit(-err);
        exec_grep_status();
    });
    ASSERT_EQ(r.status, 0) << r.output;
    auto caps = cap_lines(r.output);
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_EQ(caps[set], bit(CAP_NET_BIND_SERVICE)) << set << "\n" << r.output;
}

// A program exec'd in a fresh network namespace binds port 80 only with CAP_NET_BIND_SERVICE kept.
TEST_F(ApplyCapabilities, BindPort80AfterExec) {
    auto bind_after_exec = [](CapabilitySet keep) {
        return run_child([keep] {
            if (::unshare(CLONE_NEWNET) < 0) _exit(200);
            const char* step = nullptr;
            if (int err = apply_capabilities(keep, &step); err < 0) _exit(201);
            ::setenv("NSRUN_TEST_BIND_PORT", "80", 1);
            ::execle("/proc/self/exe", "unit_tests", nullptr, environ);
            _exit(127);
        });
    };
    EXPECT_EQ(bind_after_exec({bit(CAP_NET_BIND_SERVICE)}).status, 0);
    EXPECT_EQ(bind_after_exec({}).status, EACCES);
}

// The documented contract for a uid change: PR_SET_KEEPCAPS before setuid(), apply_capabilities() after.
TEST_F(ApplyCapabilities, AfterUidChangeWithKeepCaps) {
    ChildResult r = run_child([] {
        if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) _exit(200);
        if (::setgroups(0, nullptr) < 0 || ::setresgid(65534, 65534, 65534) < 0) _exit(201);
        if (::setresuid(65534, 65534, 65534) < 0) _exit(202);
        const char* step = nullptr;
        if (int err = apply_capabilities({bit(CAP_NET_BIND_SERVICE)}, &step); err < 0) _exit(-err);
        exec_grep_status();
    });
    ASSERT_EQ(r.status, 0) << r.output;
    auto caps = cap_lines(r.output);
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_EQ(caps[set], bit(CAP_NET_BIND_SERVICE)) << set << "\n" << r.output;
}

TEST_F(ApplyCapabilities, ReportsTheFailedStep) {
    // Without keep-caps a uid change empties the permitted set: the bounding set can no longer be dropped.
    ChildResult r = run_child([] {
        if (::setresuid(65534, 65534, 65534) < 0) _exit(200);
        const char* step = nullptr;
        int err = apply_capabilities({}, &step);
        if (err != -EPERM) _exit(201);
        _exit(step && std::strstr(step, "bounding set") ? 0 : 202);
    });
    EXPECT_EQ(r.status, 0);
    // A capability that is no longer permitted cannot be kept.
    r = run_child([] {
        const char* step = nullptr;
        if (apply_capabilities({}, &step) < 0) _exit(200);
        int err = apply_capabilities({bit(CAP_NET_BIND_SERVICE)}, &step);
        if (err != -EPERM) _exit(201);
        _exit(std::strcmp(step, "setting the kept capabilities (capset)") == 0 ? 0 : 202);
    });
    EXPECT_EQ(r.status, 0);
    // A null failed_step is fine.
    r = run_child([] {
        if (::setresuid(65534, 65534, 65534) < 0) _exit(200);
        _exit(apply_capabilities({}, nullptr) == -EPERM ? 0 : 201);
    });
    EXPECT_EQ(r.status, 0);
}

}  // namespace
}  // namespace nsrun::runtime
