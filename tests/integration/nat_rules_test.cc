// ensure_nat_rules() against the real kernel, always inside throwaway network namespaces: every test body
// runs on a thread that setns()ed into a namespace of its own, and every command it runs (nft, iptables, ip)
// is a child of that thread. The process's own threads never leave the machine's namespace, and nothing here
// runs in it: a guard aborts the test binary if a command or a call would.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/files.h"
#include "base/unique_fd.h"
#include "netsetup/nft/nat_rules.h"
#include "netsetup/nft/nft_library.h"
#include "netsetup/nft/nft_netlink.h"
#include "lab.h"

extern char** environ;

namespace {

using nsrun::Ipv4Cidr;
using nsrun::UniqueFd;
using testing::HasSubstr;
using testing::Not;

ino_t netns_inode(const char* path) {
    struct stat st {};
    if (::stat(path, &st) != 0) return 0;
    return st.st_ino;
}

// Taken by the main thread before any test: the namespace nothing here may touch.
const ino_t g_machine_netns = netns_inode("/proc/self/ns/net");

void require_scratch_netns() {
    ino_t mine = netns_inode("/proc/thread-self/ns/net");
    if (mine == 0 || mine == g_machine_netns) {
        std::fprintf(stderr, "nat_rules_test: refusing to act in the machine's network namespace\n");
        std::abort();
    }
}

bool is_root() { return ::geteuid() == 0; }

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }

const Ipv4Cidr kPool = cidr("203.0.113.0/24");

void ensure(const Ipv4Cidr& pool) {
    require_scratch_netns();
    nsrun::StepLog log(std::getenv("NAT_RULES_TEST_VERBOSE") != nullptr);
    nsrun::net::ensure_nat_rules(pool, log);
}

struct Cmd {
    int status = -1;
    std::string out;
};

// Runs a shell command as a child of the calling thread, so in the calling thread's network namespace.
Cmd sh(const std::string& command) {
    require_scratch_netns();
    Cmd result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return result;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.out.append(buf, n);
    int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string ruleset() { return sh("nft list ruleset").out; }

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

std::string sysctl_file(const std::string& path) {
    require_scratch_netns();
    return nsrun::read_sysctl(path).value_or("?");
}

void write_sysctl_file(const std::string& path, const char* value) {
    require_scratch_netns();
    nsrun::write_sysctl(path, value);
}

std::string ip_forward() { return sysctl_file("/proc/sys/net/ipv4/ip_forward"); }
void set_ip_forward(char value) { write_sysctl_file("/proc/sys/net/ipv4/ip_forward", std::string(1, value).c_str()); }

// A fresh, empty network namespace, alive while this object (its fd) is.
class ScratchNetns {
public:
    ScratchNetns() {
        std::thread([this] {
            if (::unshare(CLONE_NEWNET) == 0)
                fd_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        }).join();
        if (!fd_) throw std::runtime_error("cannot create a network namespace");
    }

    // Moves the calling thread into the namespace; only ever called on threads made for that.
    void enter() const {
        if (::setns(fd_.get(), CLONE_NEWNET) != 0) throw std::runtime_error("setns failed");
        require_scratch_netns();
    }

    // Runs fn on a new thread inside the namespace; its gtest failures count, its exceptions are rethrown here.
    void run(const std::function<void()>& fn) const {
        std::exception_ptr error;
        std::thread([&] {
            try {
                enter();
                fn();
            } catch (...) {
                error = std::current_exception();
            }
        }).join();
        if (error) std::rethrow_exception(error);
    }

private:
    UniqueFd fd_;
};

// A child process (`sleep`) alone in a new network namespace: a host for traffic tests, reachable with
// `nsenter -t pid -n`. Killed and reaped on destruction.
class Peer {
public:
    Peer() {
        require_scratch_netns();
        const char* argv[] = {"unshare", "--net", "sleep", "120", nullptr};
        if (::posix_spawnp(&pid_, "unshare", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
        // Wait until unshare has switched namespaces (its netns differs from ours).
        std::string mine = "/proc/thread-self/ns/net";
        for (int i = 0; pid_ > 0 && i < 500; ++i) {
            if (netns_inode(("/proc/" + std::to_string(pid_) + "/ns/net").c_str()) != netns_inode(mine.c_str())) break;
            ::usleep(2000);
        }
    }
    ~Peer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    std::string pid() const { return std::to_string(pid_); }
    Cmd sh(const std::string& command) const { return ::sh("nsenter -t " + pid() + " -n " + command); }

private:
    pid_t pid_ = -1;
};

class NatRulesTest : public testing::Test {
protected:
    void SetUp() override {
        if (!is_root()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
        if (sh_available("nft") == false) GTEST_SKIP() << "nft is not installed";
    }
    static bool sh_available(const char* tool) {
        return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
    }
    ScratchNetns ns_;
};

TEST_F(NatRulesTest, FreshNamespaceGetsTableMasqueradeGuardAndForwarding) {
    ns_.run([] {
        set_ip_forward('0');
        uint64_t loads = nsrun::net::NftLibrary::loads();
        ensure(kPool);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads + 1);
        // A helper process ran libnftables: this process never mapped it (nsrun's own memory stays small).
        EXPECT_THAT(nsrun::testing::ReadFile("/proc/self/maps"), Not(HasSubstr("libnftables")));

        std::string rules = ruleset();
        EXPECT_THAT(rules, HasSubstr("table inet nsrun {"));
        EXPECT_THAT(rules, HasSubstr("comment \"" + nsrun::net::nat_table_comment() + "\""));
        EXPECT_THAT(rules, HasSubstr("counter pool_203_0_113_0_24 {"));
        EXPECT_THAT(rules, HasSubstr("type nat hook postrouting priority srcnat; policy accept;"));
        EXPECT_THAT(rules, HasSubstr("ip saddr 203.0.113.0/24 oifname != \"nsr*\" counter name "
                                     "\"pool_203_0_113_0_24\" masquerade"));
        EXPECT_THAT(rules, HasSubstr("chain forward_guard {"));
        EXPECT_THAT(rules, HasSubstr("meta nfproto ipv4 iifname != \"nsr*\" oifname != \"nsr*\" drop"));
        EXPECT_EQ(ip_forward(), "1");
    });
}

TEST_F(NatRulesTest, SecondCallChangesNothingAndNeverLoadsLibnftables) {
    ns_.run([] {
        set_ip_forward('0');
        ensure(kPool);
        std::string before = ruleset();
        uint64_t loads = nsrun::net::NftLibrary::loads();
        ensure(kPool);
        EXPECT_EQ(ruleset(), before);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads);
    });
}

TEST_F(NatRulesTest, ForwardingAlreadyOnMeansNoGuard) {
    ns_.run([] {
        set_ip_forward('1');
        ensure(kPool);
        std::string rules = ruleset();
        EXPECT_THAT(rules, HasSubstr("masquerade"));
        EXPECT_THAT(rules, Not(HasSubstr("forward_guard")));
        EXPECT_EQ(ip_forward(), "1");
    });
}

TEST_F(NatRulesTest, ForwardingTurnedOffLaterGetsTheGuardFirst) {
    ns_.run([] {
        set_ip_forward('1');
        ensure(kPool);
        set_ip_forward('0');  // an admin turns routing off again
        ensure(kPool);
        EXPECT_THAT(ruleset(), HasSubstr("chain forward_guard {"));
        EXPECT_EQ(ip_forward(), "1");
    });
}

TEST_F(NatRulesTest, IptablesForwardPolicyDropGetsCompatibleAcceptsOnce) {
    if (!sh_available("iptables")) GTEST_SKIP() << "iptables is not installed";
    ns_.run([] {
        ensure(kPool);
        // What Docker leaves behind: policy DROP, a jump to DOCKER-USER, its own conntrack accept.
        ASSERT_EQ(sh("iptables -P FORWARD DROP").status, 0);
        ASSERT_EQ(sh("iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && "
                     "iptables -A FORWARD -j DOCKER-USER && "
                     "iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
                      .status,
                  0);
        uint64_t loads = nsrun::net::NftLibrary::loads();
        ensure(kPool);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads) << "inserting into iptables' chain needs no libnftables";

        Cmd save = sh("iptables -S FORWARD");
        EXPECT_EQ(save.status, 0) << save.out;
        EXPECT_THAT(save.out, HasSubstr("-A FORWARD -i nsr+ -m comment --comment \"nsrun: let sandboxes (nsr*) out\" "
                                        "-j ACCEPT"));
        EXPECT_THAT(save.out, HasSubstr("-A FORWARD -o nsr+ -m conntrack --ctstate RELATED,ESTABLISHED -m comment "
                                        "--comment \"nsrun: let replies reach sandboxes (nsr*)\" -j ACCEPT"));
        EXPECT_THAT(save.out, Not(HasSubstr("incompatible")));
        // nsrun's rules come first, before Docker's jump.
        EXPECT_LT(save.out.find("-i nsr+"), save.out.find("-j DOCKER-USER"));
        Cmd list = sh("iptables -L FORWARD -n -v");
        EXPECT_EQ(list.status, 0) << list.out;
        EXPECT_EQ(sh("iptables-save").status, 0);
        // iptables can still edit the chain, as Docker will.
        EXPECT_EQ(sh("iptables -A FORWARD -i docker0 -j ACCEPT && iptables -D FORWARD -i docker0 -j ACCEPT").status,
                  0);

        std::string before = ruleset();
        ensure(kPool);
        EXPECT_EQ(ruleset(), before);
        EXPECT_EQ(count(ruleset(), "nsrun: let sandboxes"), 1u);
    });
}

TEST_F(NatRulesTest, PlainNftDropPolicyForwardChainsGetNativeAccepts) {
    ns_.run([] {
        ASSERT_EQ(sh("nft 'add table inet filter; add chain inet filter forward "
                     "{ type filter hook forward priority 0; policy drop; }'")
                      .status,
                  0);
        ASSERT_EQ(sh("nft 'add table ip fw; add chain ip fw forward_drop { type filter hook forward priority 10; policy drop; }; "
                     "add rule ip fw forward_drop counter'")
                      .status,
                  0);
        // Not forward, or not dropping, or not IPv4: left alone.
        ASSERT_EQ(sh("nft 'add table ip6 v6; add chain ip6 v6 forward_drop { type filter hook forward priority 0; policy drop; }; "
                     "add table ip open; add chain ip open forward_ok { type filter hook forward priority 0; policy accept; }; "
                     "add chain ip open in { type filter hook input priority 0; policy drop; }'")
                      .status,
                  0);
        ensure(kPool);
        std::string inet = sh("nft list chain inet filter forward").out;
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv4 iifname \"nsr*\" accept comment \"nsrun: let sandboxes (nsr*) out\""));
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv4 oifname \"nsr*\" ct state established,related accept comment "
                                    "\"nsrun: let replies reach sandboxes (nsr*)\""));
        std::string ip = sh("nft list chain ip fw forward_drop").out;
        EXPECT_THAT(ip, HasSubstr("iifname \"nsr*\" accept comment"));
        EXPECT_THAT(ip, HasSubstr("oifname \"nsr*\" ct state established,related accept comment"));
        EXPECT_LT(ip.find("nsrun: let sandboxes"), ip.find("counter packets"));  // at the top
        EXPECT_THAT(sh("nft list table ip6 v6").out, Not(HasSubstr("nsrun")));
        EXPECT_THAT(sh("nft list table ip open").out, Not(HasSubstr("nsrun")));

        std::string before = ruleset();
        ensure(kPool);
        EXPECT_EQ(ruleset(), before);
    });
}

TEST_F(NatRulesTest, RulesFlushedBehindItsBackAreRestoredOnce) {
    ns_.run([] {
        set_ip_forward('0');
        ensure(kPool);
        std::string installed = ruleset();
        set_ip_forward('0');
        // Leaves the table, its counter and its chains, without a single rule.
        ASSERT_EQ(sh("nft flush table inet nsrun").status, 0);
        ASSERT_THAT(ruleset(), Not(HasSubstr("masquerade")));
        ensure(kPool);
        EXPECT_EQ(ruleset(), installed);
        EXPECT_EQ(ip_forward(), "1");
    });
}

TEST_F(NatRulesTest, TwoPoolsGetTwoMasqueradeRules) {
    ns_.run([] {
        ensure(kPool);
        uint64_t loads = nsrun::net::NftLibrary::loads();
        ensure(cidr("10.201.0.0/16"));
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads + 1);
        ensure(kPool);
        ensure(cidr("10.201.0.0/16"));
        std::string rules = ruleset();
        EXPECT_EQ(count(rules, "masquerade"), 2u);
        EXPECT_THAT(rules, HasSubstr("ip saddr 10.201.0.0/16 oifname != \"nsr*\" counter name \"pool_10_201_0_0_16\""));
        EXPECT_THAT(rules, HasSubstr("ip saddr 203.0.113.0/24 oifname != \"nsr*\" counter name \"pool_203_0_113_0_24\""));
    });
}

TEST_F(NatRulesTest, OlderLayoutIsReplacedKeepingItsPoolsAndGuard) {
    ns_.run([] {
        ASSERT_EQ(sh("nft 'add table inet nsrun { comment \"nsrun v0: old\"; }; "
                     "add chain inet nsrun forward_guard { type filter hook forward priority 0; policy accept; }; "
                     "add counter inet nsrun pool_198_51_100_0_24; add counter inet nsrun unrelated'")
                      .status,
                  0);
        set_ip_forward('1');  // as nsrun v0 left it
        ensure(kPool);
        std::string rules = ruleset();
        EXPECT_THAT(rules, HasSubstr(nsrun::net::nat_table_comment()));
        EXPECT_THAT(rules, Not(HasSubstr("v0: old")));
        EXPECT_THAT(rules, HasSubstr("ip saddr 198.51.100.0/24"));
        EXPECT_THAT(rules, HasSubstr("ip saddr 203.0.113.0/24"));
        EXPECT_THAT(rules, Not(HasSubstr("unrelated")));
        EXPECT_THAT(rules, HasSubstr("meta nfproto ipv4 iifname != \"nsr*\" oifname != \"nsr*\" drop"));
    });
}

TEST_F(NatRulesTest, ConcurrentCallersOnAFreshNamespaceInstallOneSetOfRules) {
    if (!sh_available("iptables")) GTEST_SKIP() << "iptables is not installed";
    ns_.run([] {
        set_ip_forward('0');
        ASSERT_EQ(sh("iptables -P FORWARD DROP").status, 0);
    });
    constexpr int kCallers = 8;
    std::latch start(kCallers);
    std::vector<std::thread> callers;
    std::vector<std::string> errors(kCallers);
    for (int i = 0; i < kCallers; ++i) {
        callers.emplace_back([&, i] {
            try {
                ns_.enter();
                start.arrive_and_wait();
                ensure(i % 2 ? cidr("10.201.0.0/16") : kPool);
            } catch (const std::exception& e) {
                errors[size_t(i)] = e.what();
            }
        });
    }
    for (auto& t : callers) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    ns_.run([] {
        std::string rules = ruleset();
        EXPECT_EQ(count(rules, "table inet nsrun"), 1u);
        EXPECT_EQ(count(rules, "masquerade"), 2u);
        EXPECT_EQ(count(rules, "nsrun: forward nothing"), 1u) << rules;  // the guard rule
        EXPECT_EQ(count(rules, "nsrun: let sandboxes"), 1u);
        EXPECT_EQ(count(rules, "nsrun: let replies"), 1u);
        EXPECT_EQ(ip_forward(), "1");
    });
}

// Packets, not just rules: a sandbox behind nsr5 reaches an "internet" peer that has no route back to the pool
// (so only masquerade makes replies arrive) through Docker-style FORWARD policy DROP, while the internet still
// cannot open connections to the sandbox.
TEST_F(NatRulesTest, SandboxTrafficPassesDockerStyleDropAndIsMasqueraded) {
    if (!sh_available("iptables") || !sh_available("ping") || !sh_available("nsenter"))
        GTEST_SKIP() << "needs iptables, ping and nsenter";
    ns_.run([] {
        Peer sandbox, internet;
        auto ok = [](const Cmd& c) { return c.status == 0 ? std::string() : c.out; };
        ASSERT_EQ(ok(sh("ip link set lo up && "
                        "ip link add nsr5 type veth peer name eth0 netns " + sandbox.pid() + " && "
                        "ip addr add 203.0.113.1/24 dev nsr5 && ip link set nsr5 up && "
                        "ip link add up0 type veth peer name eth0 netns " + internet.pid() + " && "
                        "ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up")),
                  "");
        ASSERT_EQ(ok(sandbox.sh("sh -c 'ip link set lo up && ip addr add 203.0.113.2/24 dev eth0 && "
                                "ip link set eth0 up && ip route add default via 203.0.113.1'")),
                  "");
        // No route back to the pool: only masquerade can bring the replies home.
        ASSERT_EQ(ok(internet.sh("sh -c 'ip link set lo up && ip addr add 198.51.100.2/24 dev eth0 && "
                                 "ip link set eth0 up'")),
                  "");
        set_ip_forward('0');
        ASSERT_EQ(sh("iptables -P FORWARD DROP").status, 0);
        const std::string ping = "ping -n -c 1 -W 1 ";
        EXPECT_NE(sandbox.sh(ping + "198.51.100.2").status, 0) << "no forwarding yet";

        ensure(kPool);
        Cmd out = sandbox.sh(ping + "198.51.100.2");
        EXPECT_EQ(out.status, 0) << out.out;
        EXPECT_THAT(sh("nft list counter inet nsrun pool_203_0_113_0_24").out, Not(HasSubstr("packets 0 ")));
        // New connections from outside stay dropped, even with a route to the pool: only replies get in.
        ASSERT_EQ(internet.sh("ip route add 203.0.113.0/24 via 198.51.100.1").status, 0);
        EXPECT_NE(internet.sh(ping + "203.0.113.2").status, 0);
        EXPECT_EQ(sandbox.sh(ping + "198.51.100.2").status, 0);
    });
}

// The steady state is what every launch pays: one GETGEN against the record of the last check, no chain walk
// (whose cost grows with the host's ruleset) and no libnftables (its cost is in bench/nat_check_bench.cc).
// `call` is one launch's ensure_nat_rules().
// Gives the calling thread (one made for the test) a mount namespace of its own with an empty /run/nsrun: the
// record of the last check is then this test's alone, where any nsrun on the machine could replace the shared one.
void private_state_directory() {
    require_scratch_netns();
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
    ASSERT_EQ(::mount("nsrun-test", "/run/nsrun", "tmpfs", 0, "mode=0755"), 0) << std::strerror(errno);
}

void expect_steady_state(const std::function<void()>& call) {
    call();
    const uint64_t loads = nsrun::net::NftLibrary::loads();
    for (int round = 0; round < 3; ++round) {
        const uint64_t sent = nsrun::net::nft::Netlink::sent();
        call();
        EXPECT_EQ(nsrun::net::nft::Netlink::sent() - sent, 1u) << "round " << round;
    }
    // Control: without the record, as after any change to the host's ruleset, the same call walks the ruleset.
    ::unlink("/run/nsrun/nat.verified");
    const uint64_t sent = nsrun::net::nft::Netlink::sent();
    call();
    EXPECT_GT(nsrun::net::nft::Netlink::sent() - sent, 1u);
    EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads);
}

TEST_F(NatRulesTest, SteadyStateSendsOnlyTheGenerationQueryAndNeverLoadsLibnftables) {
    if (!sh_available("iptables")) GTEST_SKIP() << "iptables is not installed";
    ns_.run([] {
        private_state_directory();
        set_ip_forward('0');
        expect_steady_state([] { ensure(kPool); });
        ASSERT_EQ(sh("iptables -P FORWARD DROP").status, 0);
        expect_steady_state([] { ensure(kPool); });
    });
}

TEST_F(NatRulesTest, AnotherConnectionLimitRebuildsTheTableOnceWithIt) {
    ns_.run([] {
        ensure(kPool);
        ASSERT_THAT(ruleset(), HasSubstr("ct count over 4096 }"));
        nsrun::StepLog quiet(false);
        const nsrun::net::NatPools limited{kPool, std::nullopt, 64};
        uint64_t loads = nsrun::net::NftLibrary::loads();
        nsrun::net::ensure_nat_rules(limited, quiet);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads + 1) << "one rebuild";
        std::string rules = ruleset();
        EXPECT_EQ(count(rules, "ct count over 64 }"), 4u) << rules;
        EXPECT_THAT(rules, HasSubstr("counter connection_limit_64 {"));
        EXPECT_THAT(rules, Not(HasSubstr("4096")));
        EXPECT_THAT(rules, HasSubstr("203.0.113.0/24")) << "the rebuild keeps the pools";
        ::unlink("/run/nsrun/nat.verified");  // a full check, not the record, must find it complete
        nsrun::net::ensure_nat_rules(limited, quiet);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads + 1) << "and then it is in place";
        EXPECT_EQ(ruleset(), rules);
    });
}

// ---- Dual-stack: the IPv6 pool, IPv6 forwarding and ip6/inet drop-policy chains ----

const nsrun::net::NatPools kDualStack{kPool, *nsrun::Ipv6Cidr::parse("2001:db8:6e73::/64")};

void ensure_dual_stack() {
    require_scratch_netns();
    nsrun::StepLog log(std::getenv("NAT_RULES_TEST_VERBOSE") != nullptr);
    nsrun::net::ensure_nat_rules(kDualStack, log);
}

const std::string kIpv6Forwarding = "/proc/sys/net/ipv6/conf/all/forwarding";

TEST_F(NatRulesTest, DualStackInstallMasqueradesIpv6AndGuardsIpv6ForwardingSeparately) {
    ns_.run([] {
        set_ip_forward('1');  // the host routes IPv4 itself: no IPv4 guard
        write_sysctl_file(kIpv6Forwarding, "0");
        write_sysctl_file("/proc/sys/net/ipv6/conf/default/accept_ra", "1");
        ensure_dual_stack();
        std::string rules = ruleset();
        EXPECT_THAT(rules, HasSubstr("ip6 saddr 2001:db8:6e73::/64 oifname != \"nsr*\" counter name "
                                     "\"pool6_20010db86e7300000000000000000000_64\" masquerade"));
        EXPECT_THAT(rules, HasSubstr("chain forward_guard6 {"));
        EXPECT_THAT(rules, HasSubstr("meta nfproto ipv6 iifname != \"nsr*\" oifname != \"nsr*\" drop"));
        EXPECT_THAT(rules, Not(HasSubstr("chain forward_guard {")));
        EXPECT_EQ(sysctl_file(kIpv6Forwarding), "1");
        EXPECT_EQ(sysctl_file("/proc/sys/net/ipv6/conf/default/accept_ra"), "2");
        // Steady state: nothing more, no libnftables.
        uint64_t loads = nsrun::net::NftLibrary::loads();
        ensure_dual_stack();
        ensure(kPool);
        EXPECT_EQ(ruleset(), rules);
        EXPECT_EQ(nsrun::net::NftLibrary::loads(), loads);
    });
}

TEST_F(NatRulesTest, Ipv4OnlyLaunchLeavesIpv6ForwardingAndIp6ChainsAlone) {
    ns_.run([] {
        write_sysctl_file(kIpv6Forwarding, "0");
        ASSERT_EQ(sh("nft 'add table ip6 v6; add chain ip6 v6 fwdrop { type filter hook forward priority 0; policy drop; }; "
                     "add table inet fw; add chain inet fw fwdrop { type filter hook forward priority 0; policy drop; }'")
                      .status,
                  0);
        ensure(kPool);
        EXPECT_EQ(sysctl_file(kIpv6Forwarding), "0");
        EXPECT_THAT(sh("nft list table ip6 v6").out, Not(HasSubstr("nsrun")));
        EXPECT_THAT(sh("nft list table inet fw").out, Not(HasSubstr("(IPv6)")));
        EXPECT_THAT(ruleset(), Not(HasSubstr("forward_guard6")));

        // The first dual-stack launch adds the IPv6 rules: in inet chains restricted to IPv6, in ip6 chains as is.
        ensure_dual_stack();
        std::string inet = sh("nft list chain inet fw fwdrop").out;
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv6 iifname \"nsr*\" accept comment \"nsrun: let sandboxes (nsr*) out (IPv6)\""));
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv6 oifname \"nsr*\" ct state established,related accept comment "
                                    "\"nsrun: let replies reach sandboxes (nsr*) (IPv6)\""));
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv4 iifname \"nsr*\" accept"));
        std::string ip6 = sh("nft list chain ip6 v6 fwdrop").out;
        EXPECT_THAT(ip6, HasSubstr("iifname \"nsr*\" accept comment \"nsrun: let sandboxes (nsr*) out (IPv6)\""));
        EXPECT_THAT(ip6, Not(HasSubstr("nfproto")));
        EXPECT_THAT(ip6, HasSubstr("oifname \"nsr*\" ct status dnat accept comment \"nsrun: let connections to "
                                   "published ports reach sandboxes (nsr*) (IPv6)\""));
        EXPECT_THAT(inet, HasSubstr("meta nfproto ipv6 oifname \"nsr*\" ct status dnat accept"));
        std::string before = ruleset();
        ensure_dual_stack();
        EXPECT_EQ(ruleset(), before);
    });
}

TEST_F(NatRulesTest, FlushedTableGetsBothGuardsBackAndNoMore) {
    ns_.run([] {
        set_ip_forward('0');
        write_sysctl_file(kIpv6Forwarding, "0");
        ensure_dual_stack();
        std::string installed = ruleset();
        ASSERT_EQ(sh("nft flush table inet nsrun").status, 0);  // forwarding stays on: only the chains tell
        ensure(kPool);  // even an IPv4-only launch restores the IPv6 guard
        EXPECT_EQ(ruleset(), installed);
    });
}

TEST_F(NatRulesTest, IsolationRulesEditedAwayAreRestored) {
    ns_.run([] {
        ensure_dual_stack();
        std::string installed = ruleset();
        // One isolation drop deleted by handle: the counter's use count gives it away.
        Cmd handles = sh("nft -a list chain inet nsrun sandbox_isolation");
        auto at = handles.out.rfind("# handle ");
        ASSERT_NE(at, std::string::npos) << handles.out;
        std::string handle = handles.out.substr(at + 9);
        handle = handle.substr(0, handle.find_first_not_of("0123456789"));
        ASSERT_EQ(sh("nft delete rule inet nsrun sandbox_isolation handle " + handle).status, 0);
        ASSERT_NE(ruleset(), installed);
        ensure_dual_stack();
        EXPECT_EQ(ruleset(), installed);
    });
}

TEST_F(NatRulesTest, Ipv4OnlyLaunchesTrustTheRecordOfADualStackCheck) {
    ns_.run([] {
        ensure_dual_stack();
        auto record = [] { return sh("cat /run/nsrun/nat.verified").out; };
        const std::string dual = record();
        ASSERT_THAT(dual, HasSubstr(" 203.0.113.0/24 2001:db8:6e73::/64\n"));
        ensure(kPool);  // a full check would have written its own record, with "-" for the IPv6 pool
        EXPECT_EQ(record(), dual);
        ::unlink("/run/nsrun/nat.verified");
        ensure(kPool);
        EXPECT_THAT(record(), HasSubstr(" 203.0.113.0/24 -\n"));
        ensure_dual_stack();  // the IPv4-only record does not cover IPv6
        EXPECT_EQ(record(), dual);
    });
}

TEST_F(NatRulesTest, DualStackSteadyStateSendsOnlyTheGenerationQuery) {
    ns_.run([] {
        private_state_directory();
        expect_steady_state(ensure_dual_stack);
        expect_steady_state([] { ensure(kPool); });  // an IPv4-only launch trusts the dual-stack record
    });
}

}  // namespace
