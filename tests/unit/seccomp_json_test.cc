// Seccomp profiles in the container world's JSON format: each action, comparison operator and
// includes/excludes condition at work (a probe in a child under the filter), the errors with their line and
// column, and the built-in profile written in the format and loaded back.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/error.h"
#include "gtest/gtest.h"
#include "runtime/seccomp_filter.h"
#include "seccomp_run.h"

namespace nsrun::runtime {
namespace {

constexpr int kMarked = 77;  // the errno the test profiles answer with

// A profile that allows everything but gives `getppid` the rule `rule` (the inside of a syscalls entry).
std::string getppid_profile(const std::string& rule) {
    return R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], )" + rule + "}]}";
}

SeccompFilter load(const std::string& text, const ProfileConditions& conditions = {}) {
    return SeccompFilter::from_text(text, "p.json", conditions);
}

// What getppid(a0, a1) returns under `filter`: 0 when allowed, else the errno.
int getppid_with(const SeccompFilter& filter, unsigned long a0, unsigned long a1 = 0) {
    return run_filtered(filter, [=] { return errno_of(::syscall(SYS_getppid, a0, a1)); });
}
int getppid32_with(const SeccompFilter& filter, unsigned long a0) {
    return run_filtered(filter, [=] { return int80(i386_nr("getppid"), long(a0)) < 0 ? kMarked : 0; });
}

std::string error_of(const std::string& text, const ProfileConditions& conditions = {}) {
    try {
        load(text, conditions);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

// ---------------------------------------------------------------------------------------------------------------
// Actions.

TEST(SeccompJson, IsToldApartByContent) {
    // The same rule in both formats; both load, and both refuse getppid.
    EXPECT_EQ(getppid_with(load(getppid_profile(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77)")), 0), kMarked);
    EXPECT_EQ(getppid_with(load("deny getppid errno 77\n"), 0), kMarked);
    EXPECT_EQ(getppid_with(load("\xEF\xBB\xBF \n\t{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 77,"
                                "\"syscalls\": [{\"names\": [\"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}"),
                           0),
              kMarked);
}

TEST(SeccompJson, EveryAction) {
    auto with = [](const std::string& action) { return load(getppid_profile(action)); };
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77)"), 0), kMarked);
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_ERRNO")"), 0), EPERM) << "the OCI spec's default errno";
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_KILL")"), 0), kSignalled + SIGSYS);
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_KILL_THREAD")"), 0), kSignalled + SIGSYS);
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_KILL_PROCESS")"), 0), kSignalled + SIGSYS);
    // TRAP sends a SIGSYS the program can catch; KILL does not let it.
    auto caught = [](const SeccompFilter& f) {
        return run_filtered(f, [] {
            struct sigaction sa {};
            sa.sa_handler = [](int) { ::syscall(SYS_exit_group, 42); };
            ::sigaction(SIGSYS, &sa, nullptr);
            ::syscall(SYS_getppid);
            return 0;
        });
    };
    EXPECT_EQ(caught(with(R"("action": "SCMP_ACT_TRAP")")), 42);
    EXPECT_EQ(caught(with(R"("action": "SCMP_ACT_KILL_PROCESS")")), kSignalled + SIGSYS);
    // LOG lets the call through (and logs it); TRACE without a tracer fails the call with ENOSYS.
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_LOG")"), 0), 0);
    EXPECT_EQ(getppid_with(with(R"("action": "SCMP_ACT_TRACE", "errnoRet": 5)"), 0), ENOSYS);
    // ALLOW, under a default that refuses.
    SeccompFilter allow = load(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 77, "syscalls": [
        {"names": ["exit_group"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})");
    EXPECT_EQ(getppid_with(allow, 1), 0);
    EXPECT_EQ(getppid_with(allow, 2), kMarked);
    EXPECT_EQ(run_filtered(allow, [] { return errno_of(::syscall(SYS_getpid)); }), kMarked);
    // NOTIFY needs a supervisor nsrun does not have.
    EXPECT_EQ(error_of(getppid_profile(R"("action": "SCMP_ACT_NOTIFY")")),
              "--seccomp p.json: 1:83: SCMP_ACT_NOTIFY hands calls to a supervisor process listening on a socket, "
              "which nsrun does not have; use SCMP_ACT_ERRNO or SCMP_ACT_ALLOW");
    // The default action, any of them.
    EXPECT_EQ(getppid_with(load(R"({"defaultAction": "SCMP_ACT_LOG"})"), 0), 0);
    EXPECT_EQ(getppid_with(load(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS"})"), 0), kSignalled + SIGSYS);
    // A rule that does what the default does changes nothing (libseccomp would refuse it).
    EXPECT_EQ(getppid_with(load(getppid_profile(R"("action": "SCMP_ACT_ALLOW")")), 0), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Comparisons.

SeccompFilter compare(const std::string& op, const std::string& value, const std::string& value_two = "0") {
    return load(getppid_profile(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77, "args": [{"index": 0, "value": )" +
                                value + R"(, "valueTwo": )" + value_two + R"(, "op": ")" + op + R"("}])"));
}

TEST(SeccompJson, EveryOperator) {
    struct Case {
        const char* op;
        unsigned long matches, misses;
    };
    for (const Case& c : {Case{"SCMP_CMP_EQ", 5, 4}, Case{"SCMP_CMP_NE", 4, 5}, Case{"SCMP_CMP_LT", 4, 5},
                          Case{"SCMP_CMP_LE", 5, 6}, Case{"SCMP_CMP_GT", 6, 5}, Case{"SCMP_CMP_GE", 5, 4}}) {
        SeccompFilter f = compare(c.op, "5");
        EXPECT_EQ(getppid_with(f, c.matches), kMarked) << c.op;
        EXPECT_EQ(getppid_with(f, c.misses), 0) << c.op;
    }
    // (arg & value) == valueTwo
    SeccompFilter masked = compare("SCMP_CMP_MASKED_EQ", "240", "48");
    EXPECT_EQ(getppid_with(masked, 0x3f), kMarked);
    EXPECT_EQ(getppid_with(masked, 0x30), kMarked);
    EXPECT_EQ(getppid_with(masked, 0x40), 0);
    EXPECT_EQ(getppid_with(masked, 0x130), kMarked);
    EXPECT_EQ(getppid32_with(masked, 0x31), kMarked) << "i386";
    EXPECT_EQ(getppid32_with(masked, 0x41), 0) << "i386";
    // All 64 bits count on x86-64.
    SeccompFilter wide = compare("SCMP_CMP_EQ", "4294967301");  // 0x100000005
    EXPECT_EQ(getppid_with(wide, 0x100000005), kMarked);
    EXPECT_EQ(getppid_with(wide, 5), 0);
}

// i386 arguments are 32 bits: a comparison with a value above 32 bits is decided as the kernel's values decide
// it, not on the value's low word (which libseccomp alone would compare).
TEST(SeccompJson, I386ComparesWithTheWholeValue) {
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_EQ", "4294967301"), 5), 0);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_GE", "4294967296"), 0), 0);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_GT", "4294967296"), 7), 0);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_NE", "4294967301"), 5), kMarked);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_LT", "4294967296"), 0xffffffff), kMarked);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_LE", "4294967296"), 3), kMarked);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_MASKED_EQ", "18446744073709551615", "4294967301"), 5), 0);
    EXPECT_EQ(getppid32_with(compare("SCMP_CMP_MASKED_EQ", "18446744073709551615", "5"), 5), kMarked);
    // On x86-64 the same rules decide on all 64 bits.
    EXPECT_EQ(getppid_with(compare("SCMP_CMP_GE", "4294967296"), 1UL << 32), kMarked);
    EXPECT_EQ(getppid_with(compare("SCMP_CMP_GE", "4294967296"), 0), 0);
}

TEST(SeccompJson, ConditionsOfOneRuleAllHold) {
    SeccompFilter both = load(getppid_profile(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77, "args": [
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}])"));
    EXPECT_EQ(getppid_with(both, 1, 2), kMarked);
    EXPECT_EQ(getppid_with(both, 1, 3), 0);
    EXPECT_EQ(getppid_with(both, 0, 2), 0);
    // Two comparisons of one argument: one rule each, as runc (Docker, podman) makes them.
    SeccompFilter twice = load(getppid_profile(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77, "args": [
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}])"));
    EXPECT_EQ(getppid_with(twice, 1), kMarked);
    EXPECT_EQ(getppid_with(twice, 2), kMarked);
    EXPECT_EQ(getppid_with(twice, 3), 0);
    // Rules for one call with different actions are decided by their conditions.
    SeccompFilter mixed = load(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 78, "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})");
    EXPECT_EQ(getppid_with(mixed, 1), kMarked);
    EXPECT_EQ(getppid_with(mixed, 2), 78);
    EXPECT_EQ(getppid_with(mixed, 3), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// includes / excludes.

SeccompFilter when(const std::string& clause, const ProfileConditions& conditions) {
    return load(getppid_profile(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 77, )" + clause), conditions);
}

TEST(SeccompJson, IncludesAndExcludes) {
    const ProfileConditions none{{}, "6.1.0-18-amd64"};
    ProfileConditions admin = none;
    admin.capabilities = parse_capabilities("sys_admin,net_admin");
    // caps: includes needs every one listed, excludes drops the rule for any one held.
    const std::string needs_admin = R"("includes": {"caps": ["CAP_SYS_ADMIN"]})";
    EXPECT_EQ(getppid_with(when(needs_admin, admin), 0), kMarked);
    EXPECT_EQ(getppid_with(when(needs_admin, none), 0), 0);
    const std::string needs_both = R"("includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_TIME"]})";
    EXPECT_EQ(getppid_with(when(needs_both, admin), 0), 0);
    const std::string unless_admin = R"("excludes": {"caps": ["CAP_SYS_TIME", "CAP_SYS_ADMIN"]})";
    EXPECT_EQ(getppid_with(when(unless_admin, admin), 0), 0);
    EXPECT_EQ(getppid_with(when(unless_admin, none), 0), kMarked);
    // arches: Go's names; this is amd64.
    EXPECT_EQ(getppid_with(when(R"("includes": {"arches": ["arm64", "amd64"]})", none), 0), kMarked);
    EXPECT_EQ(getppid_with(when(R"("includes": {"arches": ["x86", "arm64"]})", none), 0), 0);
    EXPECT_EQ(getppid_with(when(R"("excludes": {"arches": ["amd64"]})", none), 0), 0);
    EXPECT_EQ(getppid_with(when(R"("excludes": {"arches": ["s390x"]})", none), 0), kMarked);
    // minKernel: the running kernel (here the one given) at least that version.
    EXPECT_EQ(getppid_with(when(R"("includes": {"minKernel": "4.8"})", none), 0), kMarked);
    EXPECT_EQ(getppid_with(when(R"("includes": {"minKernel": "6.1"})", none), 0), kMarked);
    EXPECT_EQ(getppid_with(when(R"("includes": {"minKernel": "6.2"})", none), 0), 0);
    EXPECT_EQ(getppid_with(when(R"("includes": {"minKernel": "10.0"})", none), 0), 0) << "numbers, not text";
    EXPECT_EQ(getppid_with(when(R"("excludes": {"minKernel": "5.4"})", none), 0), 0);
    EXPECT_EQ(getppid_with(when(R"("excludes": {"minKernel": "6.10"})", none), 0), kMarked);
    // Both at once, and everything of an includes at once.
    EXPECT_EQ(getppid_with(when(needs_admin + R"(, "excludes": {"minKernel": "7.0"})", admin), 0), kMarked);
    EXPECT_EQ(getppid_with(when(needs_admin + R"(, "excludes": {"minKernel": "6.0"})", admin), 0), 0);
    EXPECT_EQ(getppid_with(when(R"("includes": {"caps": ["CAP_NET_ADMIN"], "arches": ["amd64"], "minKernel": "7.0"})",
                                admin),
                           0),
              0);
    // Without a release given, the running kernel's.
    EXPECT_EQ(getppid_with(when(R"("includes": {"minKernel": "3.0"})", {}), 0), kMarked);
}

// ---------------------------------------------------------------------------------------------------------------
// Broken profiles: one line naming the file, the line and column of the offending value, and what is wrong.

TEST(SeccompJson, SyntaxErrorsNameLineAndColumn) {
    EXPECT_EQ(error_of("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [,]\n}"),
              "--seccomp p.json: 3:16: not valid JSON: syntax error while parsing value - unexpected ','; "
              "expected '[', '{', or a literal");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\"} x"),
              "--seccomp p.json: 1:37: not valid JSON: syntax error while parsing value - invalid literal; expected end of input");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\""),
              "--seccomp p.json: 1:35: not valid JSON: syntax error while parsing object - unexpected end of input; "
              "expected '}'");
    // Columns count characters, not bytes; a control character in a string is shown, not printed.
    EXPECT_EQ(error_of("{\"d\xc3\xa9\": 1,\n \"x\": \"a\x01\"}"),
              "--seccomp p.json: 2:9: not valid JSON: syntax error while parsing value - invalid string: control "
              "character U+0001 (SOH) must be escaped to \\u0001");
    EXPECT_EQ(error_of("{\"a\": 1, \"a\": 2}"), "--seccomp p.json: 1:10: a second \"a\" in one object");
    std::string deep(40, '[');
    EXPECT_EQ(error_of("{\"x\": " + deep), "--seccomp p.json: 1:38: nested more than 32 deep");
}

TEST(SeccompJson, SemanticErrorsPointAtTheValue) {
    EXPECT_EQ(error_of("[]"), "--seccomp p.json: 1:1: expected an object, not an array");
    EXPECT_EQ(error_of("{\n  \"syscalls\": []\n}"), "--seccomp p.json: 1:1: missing \"defaultAction\"");
    EXPECT_EQ(error_of("{\n  \"defaultAction\": \"SCMP_ACT_MAYBE\"\n}"),
              "--seccomp p.json: 2:20: unknown action \"SCMP_ACT_MAYBE\" (SCMP_ACT_ALLOW, _ERRNO, _KILL, "
              "_KILL_PROCESS, _KILL_THREAD, _TRAP, _LOG, _TRACE)");
    EXPECT_EQ(error_of("{\"defaultAction\": 1}"), "--seccomp p.json: 1:19: expected a string, not 1");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 4096}"),
              "--seccomp p.json: 1:56: 4096 is out of range (0 to 4095)");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}"),
              "--seccomp p.json: 1:56: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno");
    const std::string head = "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [\n";
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SIMILAR"}]}]})"),
              "--seccomp p.json: 3:92: unknown operator \"SCMP_CMP_SIMILAR\" (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE, "
              "_MASKED_EQ)");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
              "--seccomp p.json: 3:71: 6 is out of range (0 to 5)");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]})"),
              "--seccomp p.json: 3:83: expected a whole number from 0 to 18446744073709551615, not -1");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1.5, "op": "SCMP_CMP_EQ"}]}]})"),
              "--seccomp p.json: 3:83: expected a whole number from 0 to 18446744073709551615, not 1.5");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}]})"),
              "--seccomp p.json: 3:61: missing \"value\"");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid", 7], "action": "SCMP_ACT_ALLOW"}]})"),
              "--seccomp p.json: 3:23: expected a string, not 7");
    EXPECT_EQ(error_of(head + R"({"names": ["get ppid"], "action": "SCMP_ACT_ERRNO"}]})"),
              "--seccomp p.json: 3:12: \"get ppid\" is not a system call name");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"]}]})"), "--seccomp p.json: 3:1: missing \"action\"");
    EXPECT_EQ(error_of(head + R"({"action": "SCMP_ACT_ERRNO"}]})"), "--seccomp p.json: 3:1: missing \"name\"");
    EXPECT_EQ(error_of(head + R"({"names": "getppid", "action": "SCMP_ACT_ERRNO"}]})"),
              "--seccomp p.json: 3:11: expected an array, not the string \"getppid\"");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_FLY"]}}]})"),
              "--seccomp p.json: 3:74: unknown capability 'CAP_FLY'");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "new"}}]})"),
              "--seccomp p.json: 3:78: expected a kernel version such as \"4.8\", not \"new\"");
    EXPECT_EQ(error_of(head + R"({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "includes": []}]})"),
              "--seccomp p.json: 3:64: expected an object, not an array");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"]}"),
              "--seccomp p.json: 1:47: nsrun does not support the filter flag \"SECCOMP_FILTER_FLAG_LOG\"");
    EXPECT_EQ(error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [{\"subArchitectures\": []}]}"),
              "--seccomp p.json: 1:49: missing \"architecture\"");
    // A name in an error is quoted as JSON, escapes and all.
    EXPECT_EQ(error_of("{\"defaultAction\": \"\\u001b[31m\"}"),
              "--seccomp p.json: 1:19: unknown action \"\\u001b[31m\" (SCMP_ACT_ALLOW, _ERRNO, _KILL, "
              "_KILL_PROCESS, _KILL_THREAD, _TRAP, _LOG, _TRACE)");
}

TEST(SeccompJson, FromFileNamesThePath) {
    char path[] = "/tmp/nsrun-seccomp-json-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string text = "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": 3\n}\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), ssize_t(text.size()));
    ::close(fd);
    try {
        seccomp_from_option(path);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "--seccomp " + std::string(path) + ": 3:15: expected an array, not 3");
    }
    ::unlink(path);
}

// Docker's and podman's profiles name calls newer than this libseccomp: they stay under the default action,
// and --verbose says which.
TEST(SeccompJson, UnknownSystemCallsAreLeftOutAndSaid) {
    SeccompFilter f = load(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 77, "syscalls": [
        {"names": ["exit_group", "getppid", "frobnicate_2031", "frobnicate_2031", "futex_wake_2099"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_EQ(getppid_with(f, 0), 0);
    ASSERT_EQ(f.notes().size(), 2u);
    EXPECT_EQ(f.notes()[0].find("--seccomp p.json: on top of the profile nsrun kills every x32 call"), 0u) << f.notes()[0];
    EXPECT_NE(f.notes()[1].find("left out 2 system call(s) libseccomp 2."), std::string::npos) << f.notes()[1];
    EXPECT_NE(f.notes()[1].find(": frobnicate_2031 futex_wake_2099"), std::string::npos) << f.notes()[1];
    EXPECT_TRUE(SeccompFilter::default_profile().notes().empty());
}

// ---------------------------------------------------------------------------------------------------------------
// nsrun's own rules on top of a profile file: whatever the file allows, these calls get nsrun's answers.

TEST(SeccompJson, NsrunsOwnRulesStayOnTop) {
    SeccompFilter lax = load(R"({"defaultAction": "SCMP_ACT_ALLOW"})");
    auto tiocsti = [](unsigned long request) {
        return [request] {
            int master = ::posix_openpt(O_RDWR | O_NOCTTY);
            char c = 'x';
            return master < 0 ? 100 : errno_of(::syscall(SYS_ioctl, master, request, &c));
        };
    };
    EXPECT_EQ(run_filtered(lax, tiocsti(TIOCSTI)), EPERM);
    EXPECT_EQ(run_filtered(lax, tiocsti(TIOCSTI | (1UL << 32))), EPERM);
    EXPECT_EQ(run_filtered(lax, tiocsti(TIOCLINUX)), EPERM);
    EXPECT_EQ(run_filtered(lax, [] { return errno_of(::syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
    EXPECT_EQ(run_filtered(lax, [] { return int(-int80(i386_nr("socketcall"), 1, 0)); }), ENOSYS);
    EXPECT_EQ(run_filtered(lax, [] { return errno_of(::syscall(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "getpid"))); }),
              kSignalled + SIGSYS);
    // The same in nsrun's own format, and a profile allowing ioctl outright changes nothing.
    EXPECT_EQ(run_filtered(load("deny mkdir\n"), tiocsti(TIOCSTI)), EPERM);
    SeccompFilter allows_ioctl = load(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["ioctl", "clone3", "exit_group", "posix_openpt", "openat", "open"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_EQ(run_filtered(allows_ioctl, tiocsti(TIOCSTI)), EPERM);
    // Other ioctls pass.
    EXPECT_EQ(run_filtered(lax, tiocsti(FIONREAD)), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// The built-in profile in the JSON format.

TEST(SeccompJson, DefaultProfileLoadsBackAndBehavesTheSame) {
    const std::string json = SeccompFilter::default_profile_json();
    ASSERT_EQ(json.back(), '\n');
    EXPECT_EQ(json.find("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"archMap\": ["), 0u) << json.substr(0, 200);
    SeccompFilter loaded = load(json);
    SeccompFilter builtin = SeccompFilter::default_profile();
    auto personality32 = [](unsigned long v) {
        return [v] {
            long r = int80(i386_nr("personality"), long(v));
            return r < 0 ? int(-r) : 0;
        };
    };
    auto raw = [](long nr, unsigned long a0 = 0, unsigned long a1 = 0, unsigned long a2 = 0) {
        return [=] {
            long r = ::syscall(nr, a0, a1, a2);
            if (r == 0 && (nr == SYS_clone || nr == SYS_clone3)) ::syscall(SYS_exit_group, 0);
            return errno_of(r);
        };
    };
    const std::vector<std::pair<const char*, std::function<int()>>> probes = {
        {"getpid", raw(SYS_getpid)},
        {"unshare user", raw(SYS_unshare, CLONE_NEWUSER)},
        {"unshare time", raw(SYS_unshare, CLONE_NEWTIME)},
        {"unshare files", raw(SYS_unshare, CLONE_FILES)},
        {"clone newnet", raw(SYS_clone, CLONE_NEWNET | SIGCHLD)},
        {"clone3", raw(SYS_clone3, 0, 0)},
        {"mount", raw(SYS_mount, 0, 0, 0)},
        {"keyctl", raw(SYS_keyctl, 0, -3UL)},
        {"bpf", raw(SYS_bpf, -1UL)},
        {"io_uring_setup", raw(SYS_io_uring_setup, 1, 0)},
        {"socket vsock", raw(SYS_socket, AF_VSOCK, SOCK_STREAM)},
        {"socket vsock high", raw(SYS_socket, AF_VSOCK | (1UL << 32), SOCK_STREAM)},
        {"socket unix", raw(SYS_socket, AF_UNIX, SOCK_STREAM)},
        {"personality query", raw(SYS_personality, 0xffffffff)},
        {"personality linux32", raw(SYS_personality, PER_LINUX32)},
        {"personality 0x20008", raw(SYS_personality, 0x20008)},
        {"personality no-aslr", raw(SYS_personality, ADDR_NO_RANDOMIZE)},
        {"personality 9", raw(SYS_personality, 9)},
        {"personality 0x20009", raw(SYS_personality, 0x20009)},
        {"personality 0xfffffffe", raw(SYS_personality, 0xfffffffe)},
        {"personality high", raw(SYS_personality, 8UL | (1UL << 32))},
        {"personality32 query", personality32(0xffffffff)},
        {"personality32 no-aslr", personality32(ADDR_NO_RANDOMIZE)},
        {"personality32 0", personality32(0)},
        {"unshare32 user", [] { return int(-int80(i386_nr("unshare"), CLONE_NEWUSER)); }},
        {"socket32 vsock", [] { return int(-int80(359, AF_VSOCK, SOCK_STREAM)); }},
        {"clock_settime64 i386", [] { return int(-int80(i386_nr("clock_settime64"), 0, 0)); }},
        {"x32 getpid", raw(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "getpid"))},
    };
    for (const auto& [name, probe] : probes) EXPECT_EQ(run_filtered(loaded, probe), run_filtered(builtin, probe)) << name;
    // And the probes tell filters apart: a profile without those rules answers differently.
    SeccompFilter lax = load(R"({"defaultAction": "SCMP_ACT_ALLOW"})");
    int differ = 0;
    for (const auto& [name, probe] : probes) differ += run_filtered(lax, probe) != run_filtered(builtin, probe);
    EXPECT_GE(differ, 15);
}

}  // namespace
}  // namespace nsrun::runtime
