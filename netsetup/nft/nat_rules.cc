// Layout (version 3):
//
//   table inet nsrun {                                 comment "nsrun v3: ..."
//     counter pool_10_201_0_0_16                       one per IPv4 pool
//     counter pool6_fd6e7372756e00000000000000000000_64   one per IPv6 pool
//     counter isolation                                used by the kIsolationRules drops and refusals below
//     counter connection_limit_4096                    used by the kConnectionLimitRules refusals below
//     set connections { type iface_index; size 65535; flags dynamic; }   ct count per host veth
//     chain postrouting { type nat hook postrouting priority srcnat; policy accept;
//       ip saddr 10.201.0.0/16 oifname != "nsr*" counter name "pool_10_201_0_0_16" masquerade
//       ip6 saddr fd6e:7372:756e::/64 oifname != "nsr*" counter name "pool6_..." masquerade }
//     chain dns_unmark { type filter hook input priority -20; policy accept;
//       iifname "nsr*" meta mark set meta mark & ~0x2000 }                 only nsrun sets the DNS mark
//     (a sandbox whose resolver is on the host: its own table inet nsrun_dns_nsrN, priority -10, owner flag,
//      marks exactly its packets to those resolvers' port 53; see host_dns.h)
//     chain host_isolation { type filter hook input priority filter; policy accept;
//       iifname != "nsr*" accept                                            not from a sandbox: not ours
//       icmp type redirect counter name "isolation" drop                    a sandbox must not steer the
//       icmpv6 type { nd-router-advert, nd-redirect } counter ... drop      host's routes, --allow-host or not
//       icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept      the link's own IPv6 neighbours
//       meta nfproto ipv4 fib saddr . iif oif missing counter ... drop      no spoofed sources, silently
//       ip6 saddr != fe80::/10 fib saddr . iif oif missing counter ... drop (link-local: see the script)
//       ct state established,related accept                                 replies to the host, ICMP errors
//       meta l4proto tcp ct state new add @connections { meta iif ct count over 4096 }
//         counter name "connection_limit_4096" reject with tcp reset        the per-sandbox limit,
//       meta l4proto != tcp ct state new add @connections { ... }           refused at once
//         counter name "connection_limit_4096" reject with icmpx admin-prohibited
//       meta mark & 0x2000 == 0x2000 meta mark set meta mark & ~0x2000 accept   DNS to its own resolvers
//       iifgroup 0x6e73 accept                                              --allow-host sandboxes
//       meta l4proto tcp counter name "isolation" reject with tcp reset     every other new connection,
//       counter name "isolation" reject with icmpx admin-prohibited }       refused at once
//     chain sandbox_isolation { type filter hook forward priority filter; policy accept;
//       iifname "nsr*" fib saddr . iif oif missing counter name "isolation" drop    no spoofed sources
//       iifname "nsr*" (the two connection limit rules, as above)
//       iifname "nsr*" oifname "nsr*" ct status dnat accept                 published ports are public
//       iifname "nsr*" oifname "nsr*" meta l4proto tcp counter ... reject with tcp reset   sandboxes never
//       iifname "nsr*" oifname "nsr*" counter ... reject with icmpx admin-prohibited }     reach each other
//     chain forward_guard { type filter hook forward priority filter; policy accept;   only if nsrun turned
//       meta nfproto ipv4 iifname != "nsr*" oifname != "nsr*" drop }                   on ip_forward
//     chain forward_guard6 { type filter hook forward priority filter; policy accept;  only if nsrun turned
//       meta nfproto ipv6 iifname != "nsr*" oifname != "nsr*" drop }                   on IPv6 forwarding
//   }
//   + at the top of every other drop-policy forward chain of family ip, ip6 or inet (IPv6 only for
//     dual-stack launches; in inet chains each family's rules are restricted with meta nfproto to its family):
//       iifname "nsr*" accept                                   comment "nsrun: let sandboxes (nsr*) out"
//       oifname "nsr*" ct state established,related accept      comment "nsrun: let replies reach ..."
//       oifname "nsr*" ct status dnat accept                    comment "nsrun: let connections to published ..."
//     (comments end in " (IPv6)" for the IPv6 ones)
//
// Version 1 had no IPv6 and no isolation chains, version 2 dropped instead of refusing, opened port 53 of the
// host to every sandbox, checked sources only when forwarding and had no connection limit; a table of an
// older layout is replaced as a whole.
//
// Why these shapes. Refusing (a TCP reset, ICMP admin-prohibited) makes a program fail at once with
// "connection refused" instead of hanging until its own timeout; a spoofed packet is still dropped silently,
// since an answer would go to the address it forged. The source check comes before the conntrack accept, or a
// forged packet matching another sandbox's connection would pass as its reply. The connection limit is keyed
// by the host veth's index, not the source address: one count covers both families, a forged source cannot
// spend another sandbox's allowance, and a veth name or address reused by the next sandbox does not inherit
// the previous one's lingering entries (a new veth gets a new index). `ct count` elements whose count falls to
// zero are collected by the kernel, so nothing is kept per sandbox. DNS to the host: which resolvers a sandbox
// was given differs per launch (--dns), and no shared rule can know it without per-sandbox state that would
// outlive a SIGKILLed nsrun; so a sandbox whose resolver is the host (not the common case) gets a small owned
// table that only sets a mark, which fails closed: when its nsrun dies the table goes and the shared chain
// refuses again. The veth's group could not say which addresses, and a mark cannot be forged from inside (the
// kernel clears skb marks when a packet crosses namespaces; dns_unmark clears what host rules might have set).
//
// Checking, read-only: GETTABLE (exists; layout version in its comment), GETOBJ of the pools' counters, of
// the isolation counter and of the connection limit's, a dump of all chains for drop-policy forward ones and,
// per such chain, a dump of its rules for nsrun's comments; the guards' chains and rules, dns_unmark's rule.
// A named counter is the
// cheapest proof that the rules counting into it exist: rules have no key to look them up by (only a dump of
// the whole chain, which grows with the pools, with expressions to parse), while an object is fetched by name
// and its reply carries how many rules use it.
// When a check finds everything in place, the ruleset generation it saw is recorded (see is_verified()), so
// the next launch usually needs just GETGEN, whatever the size of the host's ruleset.
//
// Anything missing is added under an flock on /run/nsrun/nat.lock, after observing again (another nsrun may
// have done it while we waited), in at most two transactions: one libnftables script for table inet nsrun,
// one netlink batch for other programs' chains. The script is written to be safe even for an installer that
// bypasses the lock (another nsrun with a different /run in the same network namespace): a duplicate fails
// the transaction (EEXIST, EBUSY) instead of duplicating a rule, and the loop observes again. Inserts into
// foreign chains cannot be made conditional inside a transaction, which is why the lock exists at all.

#include "netsetup/nft/nat_rules.h"

#include <fcntl.h>
#include <netinet/in.h>  // before the kernel's headers, which then leave out what glibc defines
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "base/files.h"
#include "base/hex.h"
#include "base/state_directory.h"
#include "base/unique_fd.h"
#include "netsetup/host/ipv6_forwarding.h"
#include "netsetup/netsetup.h"
#include "netsetup/nft/nft_library.h"
#include "netsetup/nft/nft_netlink.h"

namespace nsrun::net {

namespace {

constexpr std::string_view kPostrouting = "postrouting";
constexpr std::string_view kForwardGuard = "forward_guard";
constexpr std::string_view kForwardGuard6 = "forward_guard6";
constexpr std::string_view kHostIsolation = "host_isolation";
constexpr std::string_view kSandboxIsolation = "sandbox_isolation";
constexpr std::string_view kDnsUnmark = "dns_unmark";
constexpr std::string_view kDnsUnmarkComment = "nsrun: only nsrun marks DNS to the host";
constexpr uint8_t kFamilyIp6 = NFPROTO_IPV6;
constexpr std::string_view kTableCommentText =
    ": NAT for nsrun sandboxes (veths nsr*); safe to delete when no nsrun runs";
constexpr std::string_view kGuardComment =
    "nsrun turned on net.ipv4.ip_forward for nsr* only; if you delete this table, set it back to 0";
constexpr std::string_view kGuard6Comment =
    "nsrun turned on net.ipv6.conf.all.forwarding for nsr* only (accept_ra 1 became 2); if you delete this table, "
    "reset them";
static_assert(kGuardComment.size() <= 127 && kGuard6Comment.size() <= 127, "nft caps comments at 128 bytes");
constexpr std::string_view kGuardRuleComment = "nsrun: forward nothing that is not nsr*";
constexpr std::string_view kGuard6RuleComment = "nsrun: forward no IPv6 that is not nsr*";
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";
constexpr const char* kLockDir = kStateDirectory;
constexpr const char* kLockFile = NSRUN_STATE_DIRECTORY "/nat.lock";
constexpr const char* kVerifiedFile = NSRUN_STATE_DIRECTORY "/nat.verified";
constexpr int kAttempts = 3;

bool ip_forward_on() { return read_sysctl(kIpForward).value_or("0") != "0"; }

void turn_ip_forward_on() { write_sysctl(kIpForward, "1"); }

// Serialises the writers among nsrun processes of this host (and threads of one process: each lock has its
// own open file description). Held only on the rare path that writes.
class FileLock {
public:
    FileLock() {
        if (::mkdir(kLockDir, 0755) != 0 && errno != EEXIST) throw_errno(std::string("creating ") + kLockDir);
        fd_ = UniqueFd(::open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd_) throw_errno(std::string("opening ") + kLockFile);
        while (::flock(fd_.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw_errno(std::string("locking ") + kLockFile);
    }

private:
    UniqueFd fd_;  // closing it releases the lock
};

// The last full check that found everything in place, as
// "v<layout> <netns cookie> <generation> <connection limit> <pool> <pool6>\n"
// (a new layout, or new checks, must bump kNatLayoutVersion so older records stop counting). While the
// ruleset's generation has not moved nothing in it can have changed, so a launch into the same namespace with
// the same pool needs one GETGEN instead of the chain walk, whose cost grows with the host's ruleset (a
// kube-proxy host has thousands of chains; bench/nat_check_bench measures both). The cookie, unlike the namespace's inode number, is never reused
// before reboot, and /run does not outlive one. The forwarding switches are outside the ruleset and are read
// every time. pool6 is "-" for an IPv4-only launch, whose check covers less.
std::string verified_record(uint64_t cookie, uint32_t generation, const NatPools& pools) {
    return 'v' + std::to_string(kNatLayoutVersion) + ' ' + std::to_string(cookie) + ' ' + std::to_string(generation) +
           ' ' + std::to_string(pools.connection_limit) + ' ' + pools.v4.str() + ' ' + (pools.v6 ? pools.v6->str() : "-") +
           '\n';
}

// A dual-stack check covers everything an IPv4-only launch needs, so that launch accepts any pool6 in the record:
// launches with and without --ipv6=off then share one record instead of each making the other check again.
bool is_verified(uint64_t cookie, uint32_t generation, const NatPools& pools) {
    UniqueFd fd(::open(kVerifiedFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return false;
    char buf[160];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return false;
    std::string_view record(buf, size_t(n));
    if (pools.v6) return record == verified_record(cookie, generation, pools);
    std::string ipv4_part = verified_record(cookie, generation, pools);
    ipv4_part.resize(ipv4_part.size() - 2);  // without "-\n"
    return record.starts_with(ipv4_part) && record.ends_with('\n');
}

// Best effort: without the record the next launch just checks everything again.
void remember_verified(uint64_t cookie, uint32_t generation, const NatPools& pools) {
    if (::mkdir(kLockDir, 0755) != 0 && errno != EEXIST) return;
    std::string tmp = std::string(kVerifiedFile) + '.' + std::to_string(::gettid());
    std::string record = verified_record(cookie, generation, pools);
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return;
    bool written = ::write(fd.get(), record.data(), record.size()) == ssize_t(record.size());
    fd.reset();
    // rename() replaces the record atomically: a reader sees the old one or the new one, never a mix.
    if (!written || ::rename(tmp.c_str(), kVerifiedFile) != 0) ::unlink(tmp.c_str());
}

std::span<const uint8_t> bytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

nft::Expr conntrack_match(uint32_t state_mask) {
    xt_conntrack_mtinfo3 info{};
    info.match_flags = XT_CONNTRACK_STATE;
    info.state_mask = uint16_t(state_mask);
    std::vector<uint8_t> padded(XT_ALIGN(sizeof info), 0);
    std::memcpy(padded.data(), &info, sizeof info);
    return nft::expr::xt_match("conntrack", 3, padded);
}

// The rules nsrun needs at the top of a drop-policy forward chain for one IP family (ip_family:
// NFPROTO_IPV4 or NFPROTO_IPV6), whichever of them is missing.
std::vector<nft::Rule> forward_accepts(const nft::BaseChain& chain, uint8_t ip_family, bool out, bool replies,
                                       bool published) {
    const bool v6 = ip_family == NFPROTO_IPV6;
    const bool iptables = is_iptables_chain(chain.family, chain.table, chain.name);
    // Each rule starts with this: in an inet chain, which sees both families, each family's rules mean only it.
    auto family_only = [&] {
        std::vector<nft::Expr> e;
        if (chain.family == nft::kFamilyInet) {
            const uint8_t family[] = {ip_family};
            e.push_back(nft::expr::meta_load(NFT_META_NFPROTO));
            e.push_back(nft::expr::cmp(NFT_CMP_EQ, family));
        }
        return e;
    };
    auto rule = [&](std::vector<nft::Expr> e, std::string_view comment) {
        return nft::make_rule(chain.family, chain.table, chain.name, std::move(e), comment);
    };
    const uint8_t zero[4] = {};
    std::vector<nft::Rule> rules;
    if (replies) {
        std::vector<nft::Expr> e = family_only();
        e.push_back(nft::expr::meta_load(NFT_META_OIFNAME));
        e.push_back(nft::expr::cmp(NFT_CMP_EQ, bytes(kHostLinkPrefix)));
        if (iptables) {
            // iptables-nft (1.8.9) gives up on a whole chain ("incompatible, use 'nft' tool") when one rule has
            // a native `ct` expression, and Docker manages its rules through it. It writes -m conntrack as the
            // x_tables match through nft_compat, so nsrun writes exactly that: iptables -S then shows
            // "-o nsr+ -m conntrack --ctstate RELATED,ESTABLISHED". nft cannot write this form; hence netlink.
            e.push_back(conntrack_match(XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) |
                                        XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)));
        } else {
            e.push_back(nft::expr::ct_load(NFT_CT_STATE));
            e.push_back(nft::expr::bitwise_and(NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)));
            e.push_back(nft::expr::cmp(NFT_CMP_NEQ, zero));
        }
        e.push_back(nft::expr::accept());
        rules.push_back(rule(std::move(e), v6 ? kLetReplies6Comment : kLetRepliesComment));
    }
    if (published) {
        // New connections into a sandbox are only the ones a sandbox's own table (-p, port_publish.cc) DNAT'd
        // to it; "ct status dnat" lets exactly those through, as iptables' "-m conntrack --ctstate DNAT".
        std::vector<nft::Expr> e = family_only();
        e.push_back(nft::expr::meta_load(NFT_META_OIFNAME));
        e.push_back(nft::expr::cmp(NFT_CMP_EQ, bytes(kHostLinkPrefix)));
        if (iptables) {
            e.push_back(conntrack_match(XT_CONNTRACK_STATE_DNAT));
        } else {
            e.push_back(nft::expr::ct_load(NFT_CT_STATUS));
            e.push_back(nft::expr::bitwise_and(IPS_DST_NAT));
            e.push_back(nft::expr::cmp(NFT_CMP_NEQ, zero));
        }
        e.push_back(nft::expr::accept());
        rules.push_back(rule(std::move(e), v6 ? kLetPublished6Comment : kLetPublishedComment));
    }
    if (out) {  // inserted last, so it ends up first: most packets are the sandboxes' own
        std::vector<nft::Expr> e = family_only();
        e.push_back(nft::expr::meta_load(NFT_META_IIFNAME));
        e.push_back(nft::expr::cmp(NFT_CMP_EQ, bytes(kHostLinkPrefix)));
        e.push_back(nft::expr::accept());
        rules.push_back(rule(std::move(e), v6 ? kLetOut6Comment : kLetOutComment));
    }
    return rules;
}

// What is missing in the calling thread's network namespace for `pools`.
struct Missing {
    NatTableChange table;
    std::vector<nft::Rule> foreign;
    bool forwarding = false;   // ip_forward is off
    bool forwarding6 = false;  // a dual-stack launch, and net.ipv6.conf.all.forwarding is off
    bool any() const { return !table.empty() || !foreign.empty() || forwarding || forwarding6; }
};

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// Every isolation rule of this layout, with this launch's connection limit.
bool isolation_complete(nft::Netlink& nl, const NatPools& pools) {
    auto uses = [&](std::string_view counter) {
        return nl.object_use(nft::kFamilyInet, kNatTable, counter, NFT_OBJECT_COUNTER).value_or(0);
    };
    return uses(kIsolationCounter) == kIsolationRules &&
           uses(connection_limit_counter_name(pools.connection_limit)) == kConnectionLimitRules &&
           contains(nl.rule_comments(nft::kFamilyInet, kNatTable, kDnsUnmark), kDnsUnmarkComment);
}

template <class T>
void add_unique(std::vector<T>& list, const T& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

Missing observe_everything(nft::Netlink& nl, const NatPools& pools) {
    Missing missing;
    missing.forwarding = !ip_forward_on();
    missing.forwarding6 = pools.v6 && !ipv6_forwarding_on();
    auto table = nl.get_table(nft::kFamilyInet, kNatTable);
    std::optional<unsigned> version = table && table->comment ? nat_layout_version(*table->comment) : std::nullopt;
    const unsigned layout = version.value_or(0);  // 0: older than any layout nsrun reads, or a stranger's table
    // A guard chain exists exactly when nsrun turned that family's forwarding on (a flush keeps chains).
    auto has_guard = [&](std::string_view chain) { return nl.has_chain(nft::kFamilyInet, kNatTable, chain); };
    // An older layout, a stranger's table squatting on the name, or this layout with chains or isolation rules
    // gone (someone flushed or edited it): rebuilt in one transaction, keeping every pool an earlier launch
    // added and the guards of what nsrun ever turned on. Isolation that silently lapsed would be worse than
    // the commit's RCU grace periods a rebuild waits for.
    auto rebuild = [&] {
        missing.table = {NatTableChange::Table::replace, {pools.v4}, {}, std::nullopt, pools.connection_limit};
        if (pools.v6) missing.table.pools6.push_back(*pools.v6);
        for (const std::string& name : nl.object_names(nft::kFamilyInet, kNatTable, NFT_OBJECT_COUNTER)) {
            if (auto old = pool_from_counter_name(name)) add_unique(missing.table.pools, *old);
            if (auto old = pool6_from_counter_name(name)) add_unique(missing.table.pools6, *old);
        }
        ForwardGuard keep{missing.forwarding || has_guard(kForwardGuard),
                          missing.forwarding6 || has_guard(kForwardGuard6)};
        if (keep.ipv4 || keep.ipv6) missing.table.forward_guard = keep;
    };
    if (!table) {
        missing.table = {NatTableChange::Table::create, {pools.v4}, {}, std::nullopt, pools.connection_limit};
        if (pools.v6) missing.table.pools6.push_back(*pools.v6);
        if (missing.forwarding || missing.forwarding6) missing.table.forward_guard = {missing.forwarding, missing.forwarding6};
    } else if (layout < kNatLayoutVersion || (layout == kNatLayoutVersion && !isolation_complete(nl, pools))) {
        // A different connection limit (another host-wide setting) is a rebuild too: it is in every such rule.
        rebuild();
    } else {
        // This layout, or a newer one (which its own nsrun maintains, keeping pool counters and the guards).
        auto unused = [&](const std::string& counter) {
            return nl.object_use(nft::kFamilyInet, kNatTable, counter, NFT_OBJECT_COUNTER).value_or(0) == 0;
        };
        if (unused(pool_counter_name(pools.v4))) missing.table.pools.push_back(pools.v4);
        if (pools.v6 && unused(pool6_counter_name(*pools.v6))) missing.table.pools6.push_back(*pools.v6);
        ForwardGuard repair;
        auto check_guard = [&](bool off, std::string_view chain, std::string_view comment) {
            if (!off && !has_guard(chain)) return false;
            return !contains(nl.rule_comments(nft::kFamilyInet, kNatTable, chain), comment);
        };
        repair.ipv4 = check_guard(missing.forwarding, kForwardGuard, kGuardRuleComment);
        repair.ipv6 = check_guard(missing.forwarding6, kForwardGuard6, kGuard6RuleComment);
        if (repair.ipv4 || repair.ipv6) missing.table.forward_guard = repair;
        // A pool's rule cannot be added to a chain that is gone.
        bool adds_rules = !missing.table.pools.empty() || !missing.table.pools6.empty();
        if (layout == kNatLayoutVersion && adds_rules && !nl.has_chain(nft::kFamilyInet, kNatTable, kPostrouting))
            rebuild();
    }
    for (const nft::BaseChain& chain : nl.base_chains()) {
        // Under nftables every base chain on the hook gets the packet and any drop is final, so an accept in
        // nsrun's own table cannot override, say, iptables' FORWARD policy DROP that Docker sets: the accepts
        // have to go into each such chain. ip and inet chains see forwarded IPv4, ip6 and inet ones IPv6.
        if (chain.hook != NF_INET_FORWARD || chain.policy != NF_DROP) continue;
        if (chain.family != nft::kFamilyIp && chain.family != kFamilyIp6 && chain.family != nft::kFamilyInet) continue;
        if (chain.family == nft::kFamilyInet && chain.table == kNatTable) continue;
        if (chain.family == kFamilyIp6 && !pools.v6) continue;
        auto comments = nl.rule_comments(chain.family, chain.table, chain.name);
        auto add = [&](uint8_t ip_family, std::string_view out, std::string_view replies, std::string_view published) {
            auto rules = forward_accepts(chain, ip_family, !contains(comments, out), !contains(comments, replies),
                                         !contains(comments, published));
            std::move(rules.begin(), rules.end(), std::back_inserter(missing.foreign));
        };
        if (chain.family != kFamilyIp6) add(NFPROTO_IPV4, kLetOutComment, kLetRepliesComment, kLetPublishedComment);
        if (chain.family != nft::kFamilyIp && pools.v6)
            add(NFPROTO_IPV6, kLetOut6Comment, kLetReplies6Comment, kLetPublished6Comment);
    }
    return missing;
}

// observe_everything(), and when nothing is missing and the ruleset held still meanwhile, the record of it.
Missing observe(nft::Netlink& nl, const NatPools& pools, std::optional<uint64_t> cookie) {
    uint32_t generation = nl.generation();
    Missing missing = observe_everything(nl, pools);
    if (!missing.any() && cookie && nl.generation() == generation) remember_verified(*cookie, generation, pools);
    return missing;
}

std::string describe(const Missing& missing) {
    std::string what;
    auto add = [&](std::string item) { what += (what.empty() ? "" : ", ") + std::move(item); };
    if (missing.table.table == NatTableChange::Table::create) add("table inet nsrun");
    if (missing.table.table == NatTableChange::Table::replace) add("table inet nsrun (rebuilt)");
    for (const Ipv4Cidr& pool : missing.table.pools) add("masquerade for " + pool.str());
    for (const Ipv6Cidr& pool : missing.table.pools6) add("masquerade for " + pool.str());
    if (missing.table.forward_guard)
        add(std::string("forward guard") + (missing.table.forward_guard->ipv4 ? " ipv4" : "") +
            (missing.table.forward_guard->ipv6 ? " ipv6" : ""));
    std::string last_chain;
    for (const nft::Rule& rule : missing.foreign) {
        std::string chain = nft::rule_chain(rule.get());
        if (chain != last_chain) add("accepts in " + chain);
        last_chain = chain;
    }
    if (missing.forwarding) add("ip_forward");
    if (missing.forwarding6) add("IPv6 forwarding");
    return what;
}

// What the user is told when nsrun turned forwarding on: the guard that came with it drops forwarding that is
// not a sandbox's, which another tool's bridge or VPN set up later would otherwise find out the hard way.
std::string forwarding_notice(bool ipv4, bool ipv6) {
    std::string families = ipv4 && ipv6 ? "IPv4 and IPv6 forwarding" : ipv4 ? "IPv4 forwarding" : "IPv6 forwarding";
    std::string chains = ipv4 && ipv6 ? "chains " + std::string(kForwardGuard) + " and " + std::string(kForwardGuard6)
                                      : "chain " + std::string(ipv4 ? kForwardGuard : kForwardGuard6);
    return "turned on " + families + " for the sandboxes; the host forwards nothing else (" + chains +
           " of table inet nsrun drop it): to forward other traffic too, see README, \"IP forwarding\"";
}

// Returns the notice for the user, if it changed a forwarding switch.
std::optional<std::string> apply(nft::Netlink& nl, const Missing& missing, StepLog& log) {
    if (!missing.table.empty()) {
        run_nft_script(nat_table_script(missing.table), "installing nftables table inet nsrun");
        log.step("nat: committed table inet nsrun (libnftables, in a helper process)");
    }
    if (!missing.foreign.empty()) {
        nl.insert_rules(missing.foreign);
        log.step("nat: inserted accept rules into the host's drop-policy forward chains");
    }
    if (missing.forwarding) {
        // ip_forward=1 would make the host a router for every interface. The guard (committed above, or found
        // in place) drops all forwarded IPv4 that neither comes from nor goes to an nsr* veth, so for everything
        // else the host keeps forwarding nothing, as before. It must exist before the write, never after.
        turn_ip_forward_on();
        log.step("nat: turned on IPv4 forwarding");
    }
    if (missing.forwarding6) {
        // Guarded the same way, by the guard's IPv6 rule. accept_ra goes from 1 to 2 first, or the host would
        // stop listening to router advertisements and drop the routes it learnt from them (ipv6_forwarding.h).
        std::vector<std::string> kept = turn_ipv6_forwarding_on();
        if (log.enabled()) {
            std::string names;
            for (const auto& name : kept) names += (names.empty() ? "" : ", ") + name;
            log.step("nat: turned on IPv6 forwarding" +
                     (kept.empty() ? std::string(" (no interface had accept_ra=1)")
                                   : " after setting accept_ra=2 (was 1) on " + names));
        }
    }
    if (!missing.forwarding && !missing.forwarding6) return std::nullopt;
    return forwarding_notice(missing.forwarding, missing.forwarding6);
}

// An nft string literal (nsrun's own names and comments, which hold no '"').
std::string nft_string(std::string_view text) { return '"' + std::string(text) + '"'; }

std::string hex(uint32_t value) {
    char text[11];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

}  // namespace

std::string connection_limit_counter_name(uint32_t limit) { return "connection_limit_" + std::to_string(limit); }

std::string nat_table_comment() {
    return "nsrun v" + std::to_string(kNatLayoutVersion) + std::string(kTableCommentText);
}

std::optional<unsigned> nat_layout_version(std::string_view comment) {
    constexpr std::string_view prefix = "nsrun v";
    if (!comment.starts_with(prefix)) return std::nullopt;
    comment.remove_prefix(prefix.size());
    size_t colon = comment.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto version = parse_decimal(comment.substr(0, colon), 1u << 20);
    if (!version) return std::nullopt;
    return unsigned(*version);
}

std::string pool_counter_name(const Ipv4Cidr& pool) {
    uint32_t a = pool.network.value;
    return "pool_" + std::to_string(a >> 24) + '_' + std::to_string((a >> 16) & 255) + '_' +
           std::to_string((a >> 8) & 255) + '_' + std::to_string(a & 255) + '_' + std::to_string(pool.prefix);
}

std::optional<Ipv4Cidr> pool_from_counter_name(std::string_view name) {
    constexpr std::string_view prefix = "pool_";
    if (!name.starts_with(prefix)) return std::nullopt;
    std::string text(name.substr(prefix.size()));
    size_t last = text.rfind('_');
    if (last == std::string::npos) return std::nullopt;
    text[last] = '/';
    std::replace(text.begin(), text.begin() + long(last), '_', '.');
    auto pool = Ipv4Cidr::parse(text);
    if (!pool || pool_counter_name(*pool) != name) return std::nullopt;
    return pool;
}

std::string pool6_counter_name(const Ipv6Cidr& pool) {
    std::string name = "pool6_";
    for (uint8_t byte : pool.network.bytes) append_hex(name, byte);
    return name + '_' + std::to_string(pool.prefix);
}

std::optional<Ipv6Cidr> pool6_from_counter_name(std::string_view name) {
    constexpr std::string_view prefix = "pool6_";
    if (!name.starts_with(prefix) || name.size() < prefix.size() + 34 || name[prefix.size() + 32] != '_')
        return std::nullopt;
    Ipv6 network;
    for (size_t i = 0; i < 32; ++i) {
        char c = name[prefix.size() + i];
        int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (nibble < 0) return std::nullopt;
        network.bytes[i / 2] = uint8_t(network.bytes[i / 2] | (nibble << (i % 2 ? 0 : 4)));
    }
    auto length = parse_decimal(name.substr(prefix.size() + 33), 128);
    if (!length) return std::nullopt;
    auto pool = Ipv6Cidr::parse(network.str() + '/' + std::to_string(*length));
    if (!pool || pool6_counter_name(*pool) != name) return std::nullopt;
    return pool;
}

std::string nat_table_script(const NatTableChange& change) {
    const std::string table = "inet " + std::string(kNatTable);
    const std::string veths = nft_string(std::string(kHostLinkPrefix) + "*");
    const std::string isolated = " counter name " + nft_string(kIsolationCounter) + " drop\n";
    std::string s;
    if (change.table == NatTableChange::Table::replace) {
        // `add` first so the delete cannot fail; the transaction swaps the table atomically, so running
        // sandboxes' established flows keep their conntrack NAT and new ones find the new rules.
        s += "add table " + table + "\n";
        s += "delete table " + table + "\n";
    }
    if (change.table != NatTableChange::Table::keep) {
        s += "add table " + table + " { comment " + nft_string(nat_table_comment()) + "; }\n";
        s += "create chain " + table + " " + std::string(kPostrouting) +
             " { type nat hook postrouting priority srcnat; policy accept; }\n";
        // Isolation, shared by every sandbox: the host end's name says "a sandbox", its interface group says
        // "--allow-host", its index keys the connection count. All belong to the veth, so nothing here changes
        // when sandboxes come and go.
        s += "add counter " + table + " " + std::string(kIsolationCounter) + "\n";
        const std::string limit_counter = connection_limit_counter_name(change.connection_limit);
        s += "add counter " + table + " " + limit_counter + "\n";
        s += "add set " + table + " " + std::string(kConnectionSet) +
             " { type iface_index; size 65535; flags dynamic; }\n";
        // A refusal the program sees at once: a reset for TCP, ICMP admin-prohibited for the rest.
        auto refuse = [&](const std::string& chain, const std::string& match) {
            const std::string counted = "counter name " + nft_string(kIsolationCounter);
            s += "add rule " + chain + " " + match + "meta l4proto tcp " + counted + " reject with tcp reset\n";
            s += "add rule " + chain + " " + match + counted + " reject with icmpx admin-prohibited\n";
        };
        // Rules see packets from a sandbox only (`from`): new connections over its limit are refused.
        auto limit = [&](const std::string& chain, const std::string& from) {
            const std::string counted = "ct state new add @" + std::string(kConnectionSet) +
                                        " { meta iif ct count over " + std::to_string(change.connection_limit) +
                                        " } counter name " + nft_string(limit_counter);
            s += "add rule " + chain + " " + from + "meta l4proto tcp " + counted + " reject with tcp reset\n";
            s += "add rule " + chain + " " + from + "meta l4proto != tcp " + counted +
                 " reject with icmpx admin-prohibited\n";
        };
        const std::string hex_mark = hex(kHostDnsMark), hex_unmark = hex(~kHostDnsMark);
        const std::string unmark = table + " " + std::string(kDnsUnmark);
        s += "create chain " + unmark + " { type filter hook input priority " +
             std::to_string(kHostDnsMarkPriority - 10) + "; policy accept; }\n";
        s += "add rule " + unmark + " iifname " + veths + " meta mark set meta mark & " + hex_unmark + " comment " +
             nft_string(kDnsUnmarkComment) + "\n";
        const std::string input = table + " " + std::string(kHostIsolation);
        s += "create chain " + input + " { type filter hook input priority filter; policy accept; }\n";
        s += "add rule " + input + " iifname != " + veths + " accept\n";
        s += "add rule " + input + " icmp type redirect" + isolated;
        s += "add rule " + input + " icmpv6 type { nd-router-advert, nd-redirect }" + isolated;
        s += "add rule " + input + " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";
        // Link-local sources are exempt: the host end has no fe80::/64 route, and an answer to one can only go
        // back out of the link it came in on, to the sandbox that sent it.
        s += "add rule " + input + " meta nfproto ipv4 fib saddr . iif oif missing" + isolated;
        s += "add rule " + input + " ip6 saddr != fe80::/10 fib saddr . iif oif missing" + isolated;
        // After the source check: a forged packet that matches another sandbox's connection is no reply.
        s += "add rule " + input + " ct state established,related accept\n";
        limit(input, "");
        // DNS to a resolver of the sandbox's own, marked by its table (host_dns.h); the mark goes again, so no
        // socket of the host's inherits it (tcp_fwmark_accept).
        s += "add rule " + input + " meta mark & " + hex_mark + " == " + hex_mark + " meta mark set meta mark & " +
             hex_unmark + " accept\n";
        s += "add rule " + input + " meta iifgroup " + std::to_string(kAllowHostGroup) + " accept\n";
        refuse(input, "");
        const std::string forward = table + " " + std::string(kSandboxIsolation);
        const std::string from_sandbox = "iifname " + veths + " ";
        s += "create chain " + forward + " { type filter hook forward priority filter; policy accept; }\n";
        s += "add rule " + forward + " iifname " + veths + " fib saddr . iif oif missing" + isolated;
        limit(forward, from_sandbox);
        s += "add rule " + forward + " iifname " + veths + " oifname " + veths + " ct status dnat accept\n";
        refuse(forward, from_sandbox + "oifname " + veths + " ");
    }
    // The counter may be left over without its rule (someone flushed the chain): add-delete-create makes a
    // fresh one in either case, while a counter that a racing installer's rule already uses refuses the
    // delete (EBUSY), failing the whole transaction instead of duplicating the rule. Traffic between two
    // sandboxes (out through another nsr*) keeps its source address.
    auto masquerade_pool = [&](const char* address_family, const std::string& pool, const std::string& counter) {
        s += "add counter " + table + " " + counter + "\n";
        s += "delete counter " + table + " " + counter + "\n";
        s += "create counter " + table + " " + counter + "\n";
        s += "add rule " + table + " " + std::string(kPostrouting) + " " + address_family + " saddr " + pool +
             " oifname != " + veths + " counter name " + nft_string(counter) + " masquerade\n";
    };
    for (const Ipv4Cidr& pool : change.pools) masquerade_pool("ip", pool.str(), pool_counter_name(pool));
    for (const Ipv6Cidr& pool : change.pools6) masquerade_pool("ip6", pool.str(), pool6_counter_name(pool));
    // One chain per family, so that its existence alone (which a flush keeps) says nsrun turned that family's
    // forwarding on; an inet chain sees both families and must not stop forwarding the host did before nsrun.
    auto guard = [&](std::string_view chain, std::string_view comment, std::string_view family,
                     std::string_view rule_comment) {
        // add + flush + add rule leaves exactly one rule whatever was there, racing installers included.
        const std::string name = table + " " + std::string(chain);
        s += "add chain " + name + " { type filter hook forward priority filter; policy accept; comment " +
             nft_string(comment) + "; }\n";
        s += "flush chain " + name + "\n";
        s += "add rule " + name + " meta nfproto " + std::string(family) + " iifname != " + veths + " oifname != " +
             veths + " drop comment " + nft_string(rule_comment) + "\n";
    };
    if (change.forward_guard && change.forward_guard->ipv4) guard(kForwardGuard, kGuardComment, "ipv4", kGuardRuleComment);
    if (change.forward_guard && change.forward_guard->ipv6)
        guard(kForwardGuard6, kGuard6Comment, "ipv6", kGuard6RuleComment);
    return s;
}

bool is_iptables_chain(uint8_t family, std::string_view table, std::string_view chain) {
    return (family == nft::kFamilyIp || family == kFamilyIp6) && chain == "FORWARD" &&
           (table == "filter" || table == "mangle" || table == "security");
}

std::optional<std::string> ensure_nat_rules(const NatPools& pools, StepLog& log) {
    nft::Netlink nl;
    std::optional<uint64_t> cookie = nl.netns_cookie();
    const std::string what = pools.v4.str() + (pools.v6 ? " and " + pools.v6->str() : std::string());
    if (cookie && ip_forward_on() && (!pools.v6 || ipv6_forwarding_on()) && is_verified(*cookie, nl.generation(), pools)) {
        if (log.enabled()) log.step("nat: rules for " + what + " in place (ruleset unchanged since checked)");
        return std::nullopt;
    }
    if (!observe(nl, pools, cookie).any()) {
        if (log.enabled()) log.step("nat: rules for " + what + " in place");
        return std::nullopt;
    }
    log.step("nat: rules incomplete, waiting for " + std::string(kLockFile));
    FileLock lock;
    log.step("nat: took the lock");
    // A transaction that fails changes nothing, and the most likely cause is the host's firewall changing
    // between observing and writing (Docker restarting recreates its chains): observe again and retry.
    // Forwarding is switched only after the transaction that installs its guard succeeded, so a notice from an
    // attempt that failed later still stands.
    std::optional<std::string> notice;
    for (int attempt = 1;; ++attempt) {
        Missing missing = observe(nl, pools, cookie);
        if (!missing.any()) return notice;
        if (attempt > kAttempts)
            fail("setting up NAT for " + what, "still missing after installing: " + describe(missing));
        log.step("nat: adding " + describe(missing));
        try {
            if (auto said = apply(nl, missing, log)) notice = said;
        } catch (const Error&) {
            if (attempt == kAttempts) throw;
            log.step("nat: that failed; observing again");
        }
    }
}

}  // namespace nsrun::net
