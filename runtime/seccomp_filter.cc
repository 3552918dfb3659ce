#include "runtime/seccomp_filter.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <iterator>
#include <optional>
#include <vector>

#include "base/error.h"
#include "base/files.h"
#include "base/unique_fd.h"
#include "runtime/seccomp_json.h"
#include "runtime/seccomp_rules.h"

#if !defined(__x86_64__)
#error "nsrun's seccomp filters cover x86-64, i386 and x32 only"
#endif

namespace nsrun::runtime {

struct SeccompFilter::Program {
    std::vector<sock_filter> insns;
    sock_fprog fprog{};
    std::vector<std::string> notes;
};

namespace {

// ---------------------------------------------------------------------------------------------------------------
// The built-in profile, in the profile-file format (docs/seccomp-profile.md explains each choice).

constexpr std::string_view kDefaultProfile = R"(# nsrun default profile: x86-64 and i386 ABIs (every x32 call kills the process).
default allow

# New namespaces are the launcher's job; the program may create none. clone's flags are its first argument on x86-64 and i386. CLONE_NEWTIME (0x80)
# only exists for unshare and clone3: in clone's first argument those bits are the exit signal.
# CLONE_NEWNS 0x20000, NEWCGROUP 0x2000000, NEWUTS 0x4000000, NEWIPC 0x8000000, NEWUSER 0x10000000,
# NEWPID 0x20000000, NEWNET 0x40000000; and for unshare NEWTIME 0x80.
deny clone arg0 has-any 0x7e020000
deny unshare arg0 has-any 0x7e020080
# clone3's flags live in memory, which seccomp cannot read: ENOSYS makes glibc fall back to clone().
deny clone3 errno ENOSYS
deny setns

# Kernel keyrings are not namespaced.
deny keyctl
deny add_key
deny request_key

# Large kernel attack surface, rarely needed by ordinary programs.
deny bpf
deny perf_event_open
deny userfaultfd
deny io_uring_setup
deny io_uring_enter
deny io_uring_register
deny fanotify_init

# Mounts.
deny mount
deny umount
deny umount2
deny pivot_root
deny move_mount
deny open_tree
deny fsopen
deny fsconfig
deny fsmount
deny fspick
deny mount_setattr

# Kernel modules and kexec.
deny init_module
deny finit_module
deny delete_module
deny kexec_load
deny kexec_file_load

# Reaching into other processes and files by handle.
deny open_by_handle_at
deny ptrace
deny process_vm_readv
deny process_vm_writev
deny pidfd_getfd

# Only the execution domains Docker allows: PER_LINUX, PER_LINUX32, UNAME26 and the query 0xffffffff.
deny personality arg0 not-in 0 0x8 0x20000 0x20008 0xffffffff

# System-wide state.
deny quotactl
deny quotactl_fd
deny reboot
deny swapon
deny swapoff
deny acct
deny settimeofday
deny stime
deny clock_settime
deny clock_settime64
deny clock_adjtime
deny clock_adjtime64
deny adjtimex
deny syslog
deny iopl
deny ioperm
deny vm86
deny vm86old
deny lookup_dcookie
deny nfsservctl
deny uselib

# Typing into, or reprogramming, the terminal the program shares with its caller (CVE-2017-5226). The
# request is compared on its low 32 bits only, as the kernel reads it (CVE-2019-10063).
deny ioctl arg1 masked 0xffffffff == 0x5412        # TIOCSTI
deny ioctl arg1 masked 0xffffffff == 0x541c        # TIOCLINUX

# AF_VSOCK reaches the hypervisor host and is not confined by network namespaces.
deny socket arg0 in 40
# i386 socketcall's arguments live in memory, which seccomp cannot read: a socket rule would be walked around
# through it. ENOSYS, as for clone3; the direct socket calls (i386 359..373) are filtered.
deny socketcall errno ENOSYS
)";

// kDefaultProfile compiled ahead of time: compiling it with libseccomp would be a sizeable part of every
// launch (see bench/), and loading this costs nothing. The unit test EmbeddedDefaultProgramMatchesTheText compiles the text and
// fails, printing the replacement, when this array is stale (after a change of the text or of libseccomp).
// Generated with libseccomp 2.5.4.
constexpr sock_filter kDefaultProgram[] = {
    {0x20, 0, 0, 0x00000004}, {0x15, 2, 0, 0xc000003e}, {0x15, 7, 0, 0x40000003}, {0x05, 0, 0, 0x00000022},
    {0x20, 0, 0, 0x00000000}, {0x15, 10, 0, 0x00000038}, {0x15, 13, 0, 0x00000110}, {0x15, 16, 0, 0x00000087},
    {0x15, 25, 0, 0x00000029}, {0x05, 0, 0, 0x0000001c}, {0x20, 0, 0, 0x00000000}, {0x15, 4, 0, 0x00000078},
    {0x15, 7, 0, 0x00000136}, {0x15, 12, 0, 0x00000088}, {0x15, 19, 0, 0x00000167}, {0x05, 0, 0, 0x00000016},
    {0x20, 0, 0, 0x00000010}, {0x45, 1, 0, 0x7e020000}, {0x05, 0, 0, 0x00000013}, {0x06, 0, 0, 0x00050001},
    {0x20, 0, 0, 0x00000010}, {0x45, 1, 0, 0x7e020080}, {0x05, 0, 0, 0x0000000f}, {0x06, 0, 0, 0x00050001},
    {0x20, 0, 0, 0x00000014}, {0x15, 0, 6, 0x00000000}, {0x20, 0, 0, 0x00000010}, {0x15, 5, 0, 0x00000000},
    {0x15, 4, 0, 0x00000008}, {0x15, 3, 0, 0x00020000}, {0x15, 2, 0, 0x00020008}, {0x15, 1, 0, 0xffffffff},
    {0x06, 0, 0, 0x00050001}, {0x05, 0, 0, 0x00000004}, {0x20, 0, 0, 0x00000010}, {0x15, 1, 0, 0x00000028},
    {0x05, 0, 0, 0x00000001}, {0x06, 0, 0, 0x00050001}, {0x20, 0, 0, 0x00000004}, {0x15, 0, 55, 0xc000003e},
    {0x20, 0, 0, 0x00000000}, {0x35, 0, 1, 0x40000000}, {0x15, 0, 115, 0xffffffff}, {0x15, 113, 0, 0x00000065},
    {0x15, 112, 0, 0x00000067}, {0x15, 111, 0, 0x00000086}, {0x15, 110, 0, 0x0000009b}, {0x15, 109, 0, 0x0000009f},
    {0x15, 108, 0, 0x000000a3}, {0x15, 107, 0, 0x000000a4}, {0x15, 106, 0, 0x000000a5}, {0x15, 105, 0, 0x000000a6},
    {0x15, 104, 0, 0x000000a7}, {0x15, 103, 0, 0x000000a8}, {0x15, 102, 0, 0x000000a9}, {0x15, 101, 0, 0x000000ac},
    {0x15, 100, 0, 0x000000ad}, {0x15, 99, 0, 0x000000af}, {0x15, 98, 0, 0x000000b0}, {0x15, 97, 0, 0x000000b3},
    {0x15, 96, 0, 0x000000b4}, {0x15, 95, 0, 0x000000d4}, {0x15, 94, 0, 0x000000e3}, {0x15, 93, 0, 0x000000f6},
    {0x15, 92, 0, 0x000000f8}, {0x15, 91, 0, 0x000000f9}, {0x15, 90, 0, 0x000000fa}, {0x15, 89, 0, 0x0000012a},
    {0x15, 88, 0, 0x0000012c}, {0x15, 87, 0, 0x00000130}, {0x15, 86, 0, 0x00000131}, {0x15, 85, 0, 0x00000134},
    {0x15, 84, 0, 0x00000136}, {0x15, 83, 0, 0x00000137}, {0x15, 82, 0, 0x00000139}, {0x15, 81, 0, 0x00000140},
    {0x15, 80, 0, 0x00000141}, {0x15, 79, 0, 0x00000143}, {0x15, 78, 0, 0x000001a9}, {0x15, 77, 0, 0x000001aa},
    {0x15, 76, 0, 0x000001ab}, {0x15, 75, 0, 0x000001ac}, {0x15, 74, 0, 0x000001ad}, {0x15, 73, 0, 0x000001ae},
    {0x15, 72, 0, 0x000001af}, {0x15, 71, 0, 0x000001b0}, {0x15, 70, 0, 0x000001b1}, {0x15, 60, 0, 0x000001b3},
    {0x15, 68, 0, 0x000001b6}, {0x15, 67, 0, 0x000001ba}, {0x15, 66, 0, 0x000001bb}, {0x15, 0, 64, 0x00000010},
    {0x20, 0, 0, 0x0000001c}, {0x54, 0, 0, 0x00000000}, {0x15, 58, 61, 0x00000000}, {0x15, 0, 62, 0x40000003},
    {0x20, 0, 0, 0x00000000}, {0x15, 59, 0, 0x00000015}, {0x15, 58, 0, 0x00000016}, {0x15, 57, 0, 0x00000019},
    {0x15, 56, 0, 0x0000001a}, {0x15, 55, 0, 0x00000033}, {0x15, 54, 0, 0x00000034}, {0x15, 53, 0, 0x0000004f},
    {0x15, 52, 0, 0x00000056}, {0x15, 51, 0, 0x00000057}, {0x15, 50, 0, 0x00000058}, {0x15, 49, 0, 0x00000065},
    {0x15, 39, 0, 0x00000066}, {0x15, 47, 0, 0x00000067}, {0x15, 46, 0, 0x0000006e}, {0x15, 45, 0, 0x00000071},
    {0x15, 44, 0, 0x00000073}, {0x15, 43, 0, 0x0000007c}, {0x15, 42, 0, 0x00000080}, {0x15, 41, 0, 0x00000081},
    {0x15, 40, 0, 0x00000083}, {0x15, 39, 0, 0x000000a6}, {0x15, 38, 0, 0x000000a9}, {0x15, 37, 0, 0x000000d9},
    {0x15, 36, 0, 0x000000fd}, {0x15, 35, 0, 0x00000108}, {0x15, 34, 0, 0x0000011b}, {0x15, 33, 0, 0x0000011e},
    {0x15, 32, 0, 0x0000011f}, {0x15, 31, 0, 0x00000120}, {0x15, 30, 0, 0x00000150}, {0x15, 29, 0, 0x00000152},
    {0x15, 28, 0, 0x00000156}, {0x15, 27, 0, 0x00000157}, {0x15, 26, 0, 0x0000015a}, {0x15, 25, 0, 0x0000015b},
    {0x15, 24, 0, 0x0000015c}, {0x15, 23, 0, 0x0000015e}, {0x15, 22, 0, 0x00000165}, {0x15, 21, 0, 0x00000176},
    {0x15, 20, 0, 0x00000194}, {0x15, 19, 0, 0x00000195}, {0x15, 18, 0, 0x000001a9}, {0x15, 17, 0, 0x000001aa},
    {0x15, 16, 0, 0x000001ab}, {0x15, 15, 0, 0x000001ac}, {0x15, 14, 0, 0x000001ad}, {0x15, 13, 0, 0x000001ae},
    {0x15, 12, 0, 0x000001af}, {0x15, 11, 0, 0x000001b0}, {0x15, 10, 0, 0x000001b1}, {0x15, 0, 1, 0x000001b3},
    {0x06, 0, 0, 0x00050026}, {0x15, 7, 0, 0x000001b6}, {0x15, 6, 0, 0x000001ba}, {0x15, 5, 0, 0x000001bb},
    {0x15, 0, 3, 0x00000036}, {0x20, 0, 0, 0x00000018}, {0x15, 2, 0, 0x0000541c}, {0x15, 1, 0, 0x00005412},
    {0x06, 0, 0, 0x7fff0000}, {0x06, 0, 0, 0x00050001}, {0x06, 0, 0, 0x80000000},
};

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

constexpr unsigned kMaxArgs = 6;
constexpr size_t kMaxRules = 1024;  // libseccomp's compile time grows with the square of the rule count
constexpr size_t kMaxListValues = 64;
constexpr uint32_t kAuditArchX86_64 = AUDIT_ARCH_X86_64;
constexpr uint32_t kAuditArchI386 = AUDIT_ARCH_I386;

using seccomp::Profile;
using seccomp::Rule;
using seccomp::ValueList;

struct ErrnoName {
    std::string_view name;
    int value;
};
constexpr ErrnoName kErrnoNames[] = {
    {"EPERM", EPERM},       {"ENOENT", ENOENT},         {"ESRCH", ESRCH},
    {"EINTR", EINTR},       {"EIO", EIO},               {"ENXIO", ENXIO},
    {"E2BIG", E2BIG},       {"EBADF", EBADF},           {"EAGAIN", EAGAIN},
    {"ENOMEM", ENOMEM},     {"EACCES", EACCES},         {"EFAULT", EFAULT},
    {"EBUSY", EBUSY},       {"EEXIST", EEXIST},         {"ENODEV", ENODEV},
    {"ENOTDIR", ENOTDIR},   {"EISDIR", EISDIR},         {"EINVAL", EINVAL},
    {"ENFILE", ENFILE},     {"EMFILE", EMFILE},         {"ENOTTY", ENOTTY},
    {"ENOSPC", ENOSPC},     {"EROFS", EROFS},           {"ENOSYS", ENOSYS},
    {"ENOTSUP", ENOTSUP},   {"EOPNOTSUPP", EOPNOTSUPP}, {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"ENOTSOCK", ENOTSOCK}, {"EPROTONOSUPPORT", EPROTONOSUPPORT},
};


std::optional<uint64_t> parse_number(std::string_view s) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    if (s.empty()) return std::nullopt;
    uint64_t value = 0;
    for (char c : s) {
        unsigned digit;
        if (c >= '0' && c <= '9') digit = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') digit = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') digit = unsigned(c - 'A' + 10);
        else return std::nullopt;
        if (value > (UINT64_MAX - digit) / base) return std::nullopt;
        value = value * base + digit;
    }
    return value;
}

class LineParser {
public:
    LineParser(std::string_view origin, int line, std::string_view text) : origin_(origin), line_(line) {
        if (size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
        size_t i = 0;
        while (i < text.size()) {
            while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
            size_t start = i;
            while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') ++i;
            if (i > start) words_.push_back(text.substr(start, i - start));
        }
    }

    bool empty() const { return words_.empty(); }
    bool done() const { return next_ >= words_.size(); }
    std::string_view peek() const { return done() ? std::string_view() : words_[next_]; }

    std::string_view take(std::string_view what) {
        if (done()) error("expected " + std::string(what) + " at the end of the line");
        return words_[next_++];
    }

    void expect_end() {
        if (!done()) error("unexpected " + quoted_input(words_[next_]));
    }

    uint64_t number(std::string_view what) {
        std::string_view word = take(what);
        auto value = parse_number(word);
        if (!value) error("bad number " + quoted_input(word) + " (" + std::string(what) + ")");
        return *value;
    }

    uint32_t errno_action() {
        std::string_view word = take("an errno name or number");
        for (const auto& e : kErrnoNames)
            if (word == e.name) return SCMP_ACT_ERRNO(uint32_t(e.value));
        auto value = parse_number(word);
        if (!value) error("unknown errno " + quoted_input(word));
        if (*value > 4095) error("errno " + quoted_input(word) + " is out of range (0 to 4095)");
        return SCMP_ACT_ERRNO(uint32_t(*value));
    }

    [[noreturn]] void error(const std::string& why) const {
        fail("--seccomp " + std::string(origin_) + ":" + std::to_string(line_), why);
    }

private:
    std::string_view origin_;
    int line_;
    std::vector<std::string_view> words_;
    size_t next_ = 0;
};

std::optional<unsigned> parse_arg_word(std::string_view word) {
    if (word.size() != 4 || word.substr(0, 3) != "arg" || word[3] < '0' || word[3] >= char('0' + kMaxArgs))
        return std::nullopt;
    return unsigned(word[3] - '0');
}

void parse_conditions(LineParser& p, Rule& rule) {
    uint32_t args_seen = 0;
    while (!p.done()) {
        std::string_view word = p.take("a condition");
        auto arg = parse_arg_word(word);
        if (!arg) p.error("expected a condition (arg0 ... arg5), not " + quoted_input(word));
        if (rule.list) p.error("an 'in', 'not-in' or 'has-any' condition must be the only one of its rule");
        if (args_seen & (1u << *arg)) p.error(std::string(word) + " is compared twice in one rule");
        args_seen |= 1u << *arg;

        std::string_view op = p.take("an operator");
        if (op == "in" || op == "not-in" || op == "has-any") {
            if (!rule.conditions.empty()) p.error("an 'in', 'not-in' or 'has-any' condition must be the only one of its rule");
            ValueList list{*arg, op == "in" ? ValueList::in : op == "not-in" ? ValueList::not_in : ValueList::has_any, {}};
            if (list.kind == ValueList::has_any) {
                list.values.push_back(p.number("a mask"));
                if (list.values[0] == 0) p.error("'has-any' needs a mask with at least one bit set");
                rule.list = std::move(list);
                continue;
            }
            while (!p.done()) {
                uint64_t value = p.number("a value");
                if (list.kind == ValueList::in && value > 0xffffffffu)
                    p.error("'in' compares the low 32 bits of the argument: " + quoted_input(std::to_string(value)) +
                            " does not fit");
                if (list.values.size() == kMaxListValues)
                    p.error("more than " + std::to_string(kMaxListValues) + " values");
                list.values.push_back(value);
            }
            if (list.values.empty()) p.error("expected a value after " + quoted_input(op));
            rule.list = std::move(list);
            continue;
        }
        scmp_arg_cmp cmp{};
        cmp.arg = *arg;
        if (op == "masked") {
            cmp.op = SCMP_CMP_MASKED_EQ;
            cmp.datum_a = p.number("a mask");
            std::string_view eq = p.take("'=='");
            if (eq != "==") p.error("expected '==' after the mask, not " + quoted_input(eq));
            cmp.datum_b = p.number("a value");
        } else {
            if (op == "==") cmp.op = SCMP_CMP_EQ;
            else if (op == "!=") cmp.op = SCMP_CMP_NE;
            else if (op == "<") cmp.op = SCMP_CMP_LT;
            else if (op == "<=") cmp.op = SCMP_CMP_LE;
            else if (op == ">") cmp.op = SCMP_CMP_GT;
            else if (op == ">=") cmp.op = SCMP_CMP_GE;
            else p.error("unknown operator " + quoted_input(op));
            cmp.datum_a = p.number("a value");
        }
        rule.conditions.push_back(cmp);
    }
}

// One line that is not blank or a comment.
void parse_line(LineParser& p, int line, Profile& profile) {
    std::string_view verb = p.take("a word");
    if (verb == "default") {
        if (profile.default_line) p.error("second 'default' (the first is on line " + std::to_string(profile.default_line) + ")");
        std::string_view action = p.take("an action");
        if (action == "allow") {
            profile.default_action = SCMP_ACT_ALLOW;
        } else if (action == "kill") {
            profile.default_action = SCMP_ACT_KILL_PROCESS;
        } else if (action == "deny") {
            profile.default_action = SCMP_ACT_ERRNO(EPERM);
            if (!p.done()) {
                std::string_view word = p.take("'errno'");
                if (word != "errno") p.error("unexpected " + quoted_input(word));
                profile.default_action = p.errno_action();
            }
        } else if (action == "errno") {
            profile.default_action = p.errno_action();
        } else {
            p.error("unknown default action " + quoted_input(action) + " (allow, deny, errno E, kill)");
        }
        p.expect_end();
        profile.default_line = line;
        return;
    }

    Rule rule;
    rule.line = line;
    if (verb == "allow") rule.action = SCMP_ACT_ALLOW;
    else if (verb == "deny") rule.action = SCMP_ACT_ERRNO(EPERM);
    else if (verb == "kill") rule.action = SCMP_ACT_KILL_PROCESS;
    else p.error("unknown word " + quoted_input(verb) + " (default, allow, deny, kill)");

    std::string_view name = p.take("a system call name");
    rule.name = std::string(name);
    rule.native_nr = seccomp_syscall_resolve_name(rule.name.c_str());
    if (rule.native_nr == __NR_SCMP_ERROR || name.find('\0') != std::string_view::npos)
        p.error("unknown syscall " + quoted_input(name));
    if (verb == "deny" && p.peek() == "errno") {
        p.take("'errno'");
        rule.action = p.errno_action();
    }
    parse_conditions(p, rule);
    if (profile.rules.size() == kMaxRules) p.error("more than " + std::to_string(kMaxRules) + " rules");
    profile.rules.push_back(std::move(rule));
}

// The checks that need the whole file: the default action may come after the rules.
void check_rules(const Profile& profile, std::string_view origin) {
    for (size_t i = 0; i < profile.rules.size(); ++i) {
        const Rule& rule = profile.rules[i];
        auto error = [&](const std::string& why) {
            fail("--seccomp " + std::string(origin) + ":" + std::to_string(rule.line), why);
        };
        if (rule.action == profile.default_action) error("the rule does what the default action does");
        for (size_t j = 0; j < i; ++j) {
            const Rule& earlier = profile.rules[j];
            if (earlier.native_nr != rule.native_nr) continue;
            std::string where = " (line " + std::to_string(earlier.line) + ")";
            bool earlier_whole = earlier.conditions.empty() || earlier.list;
            bool whole = rule.conditions.empty() || rule.list;
            if (earlier_whole || whole)
                error("a second rule for " + quoted_input(rule.name) + where +
                      "; a rule without conditions, or with 'in'/'not-in'/'has-any', must be the only one");
            if (earlier.action != rule.action)
                error("the rules for " + quoted_input(rule.name) + " must all have the same action" + where);
        }
    }
}

Profile parse_profile(std::string_view text, std::string_view origin) {
    Profile profile;
    int line = 0;
    while (!text.empty()) {
        ++line;
        size_t end = text.find('\n');
        std::string_view current = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        LineParser p(origin, line, current);
        if (p.empty()) continue;
        parse_line(p, line, profile);
    }
    check_rules(profile, origin);
    return profile;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling.

struct ContextDeleter {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

// The numbers a system call has on each ABI, or -1 where it has none. On i386 libseccomp names the socket and
// SysV IPC calls by their socketcall()/ipc() multiplexer; nsrun's own rules use the direct system calls.
struct AbiNumbers {
    int x86_64 = -1;
    int i386 = -1;
};

AbiNumbers abi_numbers(const std::string& name) {
    AbiNumbers n;
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
    if (nr >= 0) n.x86_64 = nr;
    nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name.c_str());
    if (nr >= 0) {
        n.i386 = nr;
    } else if (nr <= -100) {
        // The direct socket calls are 359..373, the SysV IPC ones 393..402 (since Linux 4.3 and 5.1).
        for (int direct = 359; direct <= 402 && n.i386 < 0; ++direct) {
            char* found = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86, direct);
            if (found && name == found) n.i386 = direct;
            std::free(found);
        }
    }
    return n;
}

// Emits classic BPF with forward jumps to labels resolved at the end. Conditional jumps go straight to their
// label when it is near (an 8-bit offset); a program too long for that is emitted again in the `far` form,
// where each one skips over an unconditional jump.
class BpfWriter {
public:
    using Label = size_t;

    explicit BpfWriter(bool far) : far_(far) {}

    Label new_label() {
        labels_.push_back(SIZE_MAX);
        return labels_.size() - 1;
    }
    void bind(Label label) { labels_[label] = insns_.size(); }
    void load(uint32_t offset) { insns_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
    void ret(uint32_t action) { insns_.push_back(BPF_STMT(BPF_RET | BPF_K, action)); }
    void jump(Label label) {
        jumps_.push_back({insns_.size(), label, Fixup::kAlways});
        insns_.push_back(BPF_STMT(BPF_JMP | BPF_JA, 0));
    }
    // if ((A op value) == when) go to label, where op is BPF_JEQ or BPF_JSET.
    void jump_if(uint16_t op, uint32_t value, Label label, bool when = true) {
        if (far_) {
            insns_.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, value, uint8_t(when ? 0 : 1), uint8_t(when ? 1 : 0)));
            jump(label);
            return;
        }
        jumps_.push_back({insns_.size(), label, when ? Fixup::kTrue : Fixup::kFalse});
        insns_.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, value, 0, 0));
    }
    // The program, or nothing when a conditional jump does not reach its label.
    std::optional<std::vector<sock_filter>> finish() {
        for (const Fixup& f : jumps_) {
            size_t offset = labels_[f.label] - f.at - 1;
            if (f.field == Fixup::kAlways) insns_[f.at].k = uint32_t(offset);
            else if (offset > UINT8_MAX) return std::nullopt;
            else (f.field == Fixup::kTrue ? insns_[f.at].jt : insns_[f.at].jf) = uint8_t(offset);
        }
        return std::move(insns_);
    }

private:
    struct Fixup {
        size_t at;
        Label label;
        enum { kAlways, kTrue, kFalse } field;
    };
    bool far_;
    std::vector<sock_filter> insns_;
    std::vector<size_t> labels_;
    std::vector<Fixup> jumps_;
};

constexpr uint32_t kOffsetNr = offsetof(seccomp_data, nr);
constexpr uint32_t kOffsetArch = offsetof(seccomp_data, arch);
constexpr uint32_t arg_low(unsigned arg) { return uint32_t(offsetof(seccomp_data, args) + 8 * arg); }
constexpr uint32_t arg_high(unsigned arg) { return arg_low(arg) + 4; }  // x86 is little-endian

// Rules with 'in'/'not-in'/'has-any' become a prefix that runs before libseccomp's program. libseccomp can
// express none of them (has-any as one rule per bit costs three instructions a bit and ABI), and for in/not-in: it refuses two comparisons of one argument in a rule, and on i386 it turns a socket() rule into a
// socketcall() rule with the argument check dropped. A call the prefix does not decide falls through to the
// libseccomp program, which has no rule for that system call and so applies the default action. x32 calls fall
// through too: libseccomp's program kills them (see compile()).
//   in:     low 32 bits equal one of the values (for int arguments: refuses more, never less).
//   not-in: the whole argument equals none of them (i386 arguments are 32 bits).
//   has-any: the argument has at least one of the mask's bits set.
//   always:  every call (nsrun's own rules on top of a profile file; see protection_rules()).
std::optional<std::vector<sock_filter>> compile_list_rules(const std::vector<const Rule*>& rules, bool far) {
    BpfWriter w(far);
    auto start = w.new_label();  // first instruction of libseccomp's program
    auto abi64 = w.new_label();
    auto abi32 = w.new_label();
    std::vector<AbiNumbers> numbers;
    std::vector<BpfWriter::Label> check64, check32;
    for (size_t i = 0; i < rules.size(); ++i) {
        numbers.push_back(abi_numbers(rules[i]->name));
        check64.push_back(w.new_label());
        check32.push_back(w.new_label());
    }

    w.load(kOffsetArch);
    w.jump_if(BPF_JEQ, kAuditArchX86_64, abi64);
    w.jump_if(BPF_JEQ, kAuditArchI386, abi32);
    w.jump(start);

    w.bind(abi64);
    w.load(kOffsetNr);
    for (size_t i = 0; i < rules.size(); ++i)
        if (numbers[i].x86_64 >= 0) w.jump_if(BPF_JEQ, uint32_t(numbers[i].x86_64), check64[i]);
    w.jump(start);

    w.bind(abi32);
    w.load(kOffsetNr);
    for (size_t i = 0; i < rules.size(); ++i)
        if (numbers[i].i386 >= 0) w.jump_if(BPF_JEQ, uint32_t(numbers[i].i386), check32[i]);
    w.jump(start);

    for (size_t i = 0; i < rules.size(); ++i) {
        const Rule& rule = *rules[i];
        const ValueList& list = *rule.list;
        auto match = w.new_label();
        if (list.kind == ValueList::always) {
            w.bind(check64[i]);
            w.bind(check32[i]);
            w.ret(rule.action);
            continue;
        }
        if (list.kind == ValueList::has_any) {
            // One BPF_JSET per word of the mask; i386 arguments have no high word.
            uint64_t mask = list.values[0];
            w.bind(check64[i]);
            if (mask >> 32) {
                w.load(arg_high(list.arg));
                w.jump_if(BPF_JSET, uint32_t(mask >> 32), match);
            }
            w.bind(check32[i]);
            if (uint32_t(mask)) {
                w.load(arg_low(list.arg));
                w.jump_if(BPF_JSET, uint32_t(mask), match);
            }
            w.jump(start);
            w.bind(match);
            w.ret(rule.action);
            continue;
        }
        if (list.kind == ValueList::in) {
            // Only the low 32 bits count, on every ABI: one check serves both.
            w.bind(check64[i]);
            w.bind(check32[i]);
            w.load(arg_low(list.arg));
            for (uint64_t value : list.values) w.jump_if(BPF_JEQ, uint32_t(value), match);
            w.jump(start);
            w.bind(match);
            w.ret(rule.action);
            continue;
        }
        // not-in. On x86-64 the values are grouped by their high word, those with a zero high word last, so
        // that the 32-bit check can share the comparisons of the low words.
        auto pass = w.new_label();
        std::vector<uint64_t> values = list.values;
        std::sort(values.begin(), values.end(), [](uint64_t a, uint64_t b) {
            return std::pair(uint32_t(a >> 32) == 0, a) < std::pair(uint32_t(b >> 32) == 0, b);
        });
        w.bind(check64[i]);
        size_t at = 0;
        while (at < values.size()) {
            uint32_t high = uint32_t(values[at] >> 32);
            auto next_group = w.new_label();
            w.load(arg_high(list.arg));
            w.jump_if(BPF_JEQ, high, high ? next_group : match, false);
            if (!high) w.bind(check32[i]);
            w.load(arg_low(list.arg));
            for (; at < values.size() && uint32_t(values[at] >> 32) == high; ++at)
                w.jump_if(BPF_JEQ, uint32_t(values[at]), pass);
            w.bind(next_group);
            if (!high) break;
        }
        // A 32-bit argument cannot equal a value with high bits: without values that fit, every call matches.
        if (values.back() >> 32) w.bind(check32[i]);
        w.bind(match);
        w.ret(rule.action);
        w.bind(pass);
        w.jump(start);
    }
    w.bind(start);
    return w.finish();
}

std::vector<sock_filter> export_bpf(void* ctx, const std::string& doing) {
    UniqueFd fd(int(::syscall(SYS_memfd_create, "nsrun-seccomp", MFD_CLOEXEC)));
    if (!fd) throw_errno(doing + ": memfd_create");
    if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) throw_errno(doing + ": exporting the filter", -rc);
    const std::optional<std::string> exported = read_whole(fd.get());
    if (!exported) throw_errno(doing + ": reading the exported filter");
    if (exported->empty() || exported->size() % sizeof(sock_filter) != 0)
        fail(doing, "libseccomp exported " + std::to_string(exported->size()) + " bytes");
    std::vector<sock_filter> insns(exported->size() / sizeof(sock_filter));
    std::memcpy(insns.data(), exported->data(), exported->size());
    return insns;
}

// i386 arguments are 32 bits (the kernel zero-extends them), but libseccomp compares only the low words of a
// 32-bit ABI's arguments with the values, so `arg0 >= 0x100000000` would hold for every i386 call. The i386
// copy of a rule gets the conditions as the kernel's 32-bit values decide them; none when it can never match.
std::optional<std::vector<scmp_arg_cmp>> i386_conditions(const std::vector<scmp_arg_cmp>& conditions) {
    std::vector<scmp_arg_cmp> out;
    for (const scmp_arg_cmp& c : conditions) {
        bool high = c.datum_a >> 32;
        if (c.op == SCMP_CMP_EQ || c.op == SCMP_CMP_GT || c.op == SCMP_CMP_GE) {
            if (high) return std::nullopt;
        } else if (c.op == SCMP_CMP_NE || c.op == SCMP_CMP_LT || c.op == SCMP_CMP_LE) {
            if (high) continue;  // holds for every 32-bit value
        } else if (c.op == SCMP_CMP_MASKED_EQ && (c.datum_a & c.datum_b) >> 32) {
            return std::nullopt;
        }
        out.push_back(c);
    }
    return out;
}

// "--seccomp FILE:LINE" (nsrun's format) or "--seccomp FILE: LINE:COLUMN" (JSON).
std::string rule_origin(std::string_view origin, const Rule& rule) {
    std::string where = "--seccomp " + std::string(origin) + ":";
    if (rule.column) return where + " " + std::to_string(rule.line) + ":" + std::to_string(rule.column);
    return where + std::to_string(rule.line);
}

Context new_context(const Profile& profile, uint32_t arch, const std::string& doing) {
    Context ctx(seccomp_init(profile.default_action));
    if (!ctx) fail(doing, "libseccomp could not create a filter");
    if (arch != SCMP_ARCH_X86_64) {
        if (int rc = seccomp_arch_add(ctx.get(), arch); rc < 0) throw_errno(doing + ": adding the i386 ABI", -rc);
        if (int rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); rc < 0)
            throw_errno(doing + ": removing the native ABI", -rc);
    }
    // x32 is left out on purpose: without it libseccomp's program sends every x32 call (AUDIT_ARCH_X86_64 with
    // bit 30 of the number set) to the bad-ABI action, one comparison instead of a copy of every rule (290 -> 243
    // instructions for the default profile). Nothing ordinary uses x32, and most kernels lack it.
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
        throw_errno(doing + ": setting the bad-ABI action", -rc);
    return ctx;
}

// What nsrun adds on top of every profile file (docs/seccomp-profile.md), in a prefix of its own that runs
// before the file's: whatever the file says about these calls, they get these answers.
std::vector<Rule> protection_rules() {
    auto rule = [](const char* name, int error, ValueList list) {
        Rule r;
        r.name = name;
        r.native_nr = seccomp_syscall_resolve_name(name);
        r.action = SCMP_ACT_ERRNO(uint32_t(error));
        r.list = std::move(list);
        return r;
    };
    return {
        rule("ioctl", EPERM, {1, ValueList::in, {0x5412, 0x541c}}),  // TIOCSTI, TIOCLINUX on their low 32 bits
        rule("clone3", ENOSYS, {0, ValueList::always, {}}),          // glibc falls back to clone(), checkable
        rule("socketcall", ENOSYS, {0, ValueList::always, {}}),      // i386 only; its arguments are in memory
    };
}

constexpr std::string_view kProtectionsNote =
    "on top of the profile nsrun kills every x32 call, refuses ioctl TIOCSTI and TIOCLINUX with EPERM, and "
    "answers clone3 and i386 socketcall with ENOSYS (docs/seccomp-profile.md)";

std::vector<sock_filter> list_prefix(const std::vector<const Rule*>& rules) {
    if (rules.empty()) return {};
    auto prefix = compile_list_rules(rules, false);
    if (!prefix) prefix = compile_list_rules(rules, true);
    return std::move(*prefix);
}

// `protections`: put nsrun's own rules on top (profile files; the built-in profile has them in its text).
std::shared_ptr<const SeccompFilter::Program> compile(const Profile& profile, std::string_view origin,
                                                      bool protections) {
    const std::string doing = "--seccomp " + std::string(origin);
    // One context per ABI, merged at the end, so that each gets the conditions its argument width calls for.
    Context ctx = new_context(profile, SCMP_ARCH_X86_64, doing);
    Context ctx32 = new_context(profile, SCMP_ARCH_X86, doing);

    std::vector<const Rule*> list_rules;
    for (const Rule& rule : profile.rules) {
        if (rule.list) {
            list_rules.push_back(&rule);
            continue;
        }
        auto add = [&](void* to, const std::vector<scmp_arg_cmp>& conditions) {
            int rc = seccomp_rule_add_array(to, rule.action, rule.native_nr, unsigned(conditions.size()),
                                            conditions.data());
            if (rc < 0)
                fail(rule_origin(origin, rule), "libseccomp refused the rule for " + rule.name + ": " +
                                                    std::string(std::strerror(-rc)));
        };
        if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, rule.name.c_str()) >= 0)
            add(ctx.get(), rule.conditions);
        auto conditions32 = i386_conditions(rule.conditions);
        if (conditions32 && seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, rule.name.c_str()) != __NR_SCMP_ERROR)
            add(ctx32.get(), *conditions32);
    }
    if (int rc = seccomp_merge(ctx.get(), ctx32.get()); rc < 0) throw_errno(doing + ": merging the ABIs' filters", -rc);
    (void)ctx32.release();  // seccomp_merge() took it

    auto program = std::make_shared<SeccompFilter::Program>();
    if (protections) {
        static const std::vector<Rule> own = protection_rules();
        std::vector<const Rule*> rules;
        for (const Rule& rule : own) rules.push_back(&rule);
        program->insns = list_prefix(rules);
        program->notes.emplace_back(doing + ": " + std::string(kProtectionsNote));
    }
    std::vector<sock_filter> prefix = list_prefix(list_rules);
    program->insns.insert(program->insns.end(), prefix.begin(), prefix.end());
    std::vector<sock_filter> main = export_bpf(ctx.get(), doing);
    program->insns.insert(program->insns.end(), main.begin(), main.end());
    for (const std::string& note : profile.notes) program->notes.push_back(doing + ": " + note);
    if (program->insns.size() > BPF_MAXINSNS)
        fail(doing, "the compiled filter has " + std::to_string(program->insns.size()) +
                        " instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS));
    program->fprog.len = static_cast<unsigned short>(program->insns.size());
    program->fprog.filter = program->insns.data();
    return program;
}

}  // namespace

SeccompFilter SeccompFilter::off() { return SeccompFilter(nullptr); }

SeccompFilter SeccompFilter::default_profile() {
    static const std::shared_ptr<const Program> program = [] {
        auto p = std::make_shared<Program>();
        p->insns.assign(std::begin(kDefaultProgram), std::end(kDefaultProgram));
        p->fprog.len = static_cast<unsigned short>(p->insns.size());
        p->fprog.filter = p->insns.data();
        return p;
    }();
    return SeccompFilter(program);
}

std::string_view SeccompFilter::default_profile_text() noexcept { return kDefaultProfile; }

SeccompFilter SeccompFilter::compile_default_profile() {
    return SeccompFilter(compile(parse_profile(kDefaultProfile, "default"), "default", false));
}

std::string SeccompFilter::default_profile_json() {
    return seccomp::profile_json(parse_profile(kDefaultProfile, "default"));
}

SeccompFilter SeccompFilter::from_text(std::string_view text, std::string_view origin,
                                       const ProfileConditions& conditions) {
    if (text.size() > kMaxProfileBytes) fail("--seccomp " + std::string(origin), "larger than 1 MiB");
    if (seccomp::is_json_profile(text))
        return SeccompFilter(compile(seccomp::parse_json_profile(text, origin, conditions), origin, true));
    return SeccompFilter(compile(parse_profile(text, origin), origin, true));
}

SeccompFilter SeccompFilter::from_file(const std::string& path, const ProfileConditions& conditions) {
    const std::string doing = "--seccomp " + path;
    auto text = read_file(path, kMaxProfileBytes);
    if (!text && errno == EISDIR) fail(doing, "is a directory");
    if (!text && errno == EFBIG) fail(doing, "larger than 1 MiB");
    if (!text) throw_errno(doing);
    return from_text(*text, path, conditions);
}

const sock_fprog* SeccompFilter::program() const noexcept { return program_ ? &program_->fprog : nullptr; }

const std::vector<std::string>& SeccompFilter::notes() const noexcept {
    static const std::vector<std::string> none;
    return program_ ? program_->notes : none;
}

int SeccompFilter::install() const noexcept {
    if (!program_) return 0;
    // Without no_new_privs the kernel accepts a filter only from a process with CAP_SYS_ADMIN.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program_->fprog) < 0) return -errno;
    return 0;
}

SeccompFilter seccomp_from_option(std::string_view value, const ProfileConditions& conditions) {
    if (value == "default") return SeccompFilter::default_profile();
    if (value == "off") return SeccompFilter::off();
    if (value.empty()) fail("--seccomp", "expected 'default', 'off' or a profile file");
    return SeccompFilter::from_file(std::string(value), conditions);
}

}  // namespace nsrun::runtime
