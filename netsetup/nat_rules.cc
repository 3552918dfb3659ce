// Layout (version 1):
//
//   table inet nsrun {                                 comment "nsrun v1: ..."
//     counter pool_10_201_0_0_16                       one per pool
//     chain postrouting { type nat hook postrouting priority srcnat; policy accept;
//       ip saddr 10.201.0.0/16 oifname != "nsr*" counter name "pool_10_201_0_0_16" masquerade }
//     chain forward_guard { type filter hook forward priority filter; policy accept;   only if nsrun turned
//       meta nfproto ipv4 iifname != "nsr*" oifname != "nsr*" drop }                   on ip_forward
//   }
//   + at the top of every other drop-policy forward chain of family ip or inet:
//       iifname "nsr*" accept                                   comment "nsrun: let sandboxes (nsr*) out"
//       oifname "nsr*" ct state established,related accept      comment "nsrun: let replies reach ..."
//       oifname "nsr*" ct status dnat accept                    comment "nsrun: let connections to published ..."
//
// Checking, read-only: GETTABLE (exists; layout version in its comment), GETOBJ of the pool's counter, a dump of
// all chains for drop-policy forward ones and, per such chain, a dump of its rules for nsrun's comments; the
// guard's rule only when ip_forward is off. A named counter per pool is the cheapest proof that the pool's rule
// exists: rules have no key to look them up by (only a dump of the whole chain, which grows with the pools,
// with expressions to parse), while an object is fetched by name and its reply carries how many rules use it.
// When a check finds everything in place, the ruleset generation it saw is recorded (see is_verified()), so
// the next launch usually needs just GETGEN, whatever the size of the host's ruleset.
//
// Anything missing is added under an flock on /run/nsrun/nat.lock, after observing again (another nsrun may
// have done it while we waited), in at most two transactions: one libnftables script for table inet nsrun,
// one netlink batch for other programs' chains. The script is written to be safe even for an installer that
// bypasses the lock (another nsrun with a different /run in the same network namespace): a duplicate fails
// the transaction (EEXIST, EBUSY) instead of duplicating a rule, and the loop observes again. Inserts into
// foreign chains cannot be made conditional inside a transaction, which is why the lock exists at all.

#include "netsetup/nat_rules.h"

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
#include <cstring>

#include "base/error.h"
#include "base/unique_fd.h"
#include "netsetup/nft_library.h"
#include "netsetup/nft_netlink.h"

namespace nsrun::net {

namespace {

constexpr std::string_view kVethPrefix = "nsr";  // host veth ends are nsr<slot>; nft spells the match "nsr*"
constexpr std::string_view kPostrouting = "postrouting";
constexpr std::string_view kForwardGuard = "forward_guard";
constexpr std::string_view kTableCommentText =
    ": NAT for nsrun sandboxes (veths nsr*); safe to delete when no nsrun runs";
constexpr std::string_view kGuardComment =
    "nsrun turned on net.ipv4.ip_forward for nsr* only; if you delete this table, set it back to 0";
static_assert(kGuardComment.size() <= 127, "nft caps comments at 128 bytes");
constexpr std::string_view kGuardRuleComment = "nsrun: forward nothing that is not nsr*";
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";
constexpr const char* kLockDir = "/run/nsrun";
constexpr const char* kLockFile = "/run/nsrun/nat.lock";
constexpr const char* kVerifiedFile = "/run/nsrun/nat.verified";
constexpr int kAttempts = 3;

bool ip_forward_on() {
    UniqueFd fd(::open(kIpForward, O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(std::string("reading ") + kIpForward);
    char value = 0;
    if (::read(fd.get(), &value, 1) != 1) throw_errno(std::string("reading ") + kIpForward);
    return value != '0';
}

void turn_ip_forward_on() {
    UniqueFd fd(::open(kIpForward, O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), "1\n", 2) != 2) throw_errno(std::string("turning on ") + kIpForward);
}

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

// The last full check that found everything in place, as "v<layout> <netns cookie> <generation> <pool>\n"
// (a new layout, or new checks, must bump kNatLayoutVersion so older records stop counting). While the
// ruleset's generation has not moved nothing in it can have changed, so a launch into the same namespace with
// the same pool needs one GETGEN instead of the chain walk, whose cost grows with the host's ruleset (3,000
// kube-proxy-style chains make it ~0.3 ms). The cookie, unlike the namespace's inode number, is never reused
// before reboot, and /run does not outlive one. ip_forward is outside the ruleset and is read every time.
std::string verified_record(uint64_t cookie, uint32_t generation, const Ipv4Cidr& pool) {
    return 'v' + std::to_string(kNatLayoutVersion) + ' ' + std::to_string(cookie) + ' ' + std::to_string(generation) +
           ' ' + pool.str() + '\n';
}

bool is_verified(uint64_t cookie, uint32_t generation, const Ipv4Cidr& pool) {
    UniqueFd fd(::open(kVerifiedFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return false;
    char buf[96];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    return n > 0 && std::string_view(buf, size_t(n)) == verified_record(cookie, generation, pool);
}

// Best effort: without the record the next launch just checks everything again.
void remember_verified(uint64_t cookie, uint32_t generation, const Ipv4Cidr& pool) {
    if (::mkdir(kLockDir, 0755) != 0 && errno != EEXIST) return;
    std::string tmp = std::string(kVerifiedFile) + '.' + std::to_string(::gettid());
    std::string record = verified_record(cookie, generation, pool);
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

void append(std::vector<uint8_t>& to, const std::vector<uint8_t>& expression) {
    to.insert(to.end(), expression.begin(), expression.end());
}

// The rules nsrun needs at the top of a drop-policy forward chain, whichever of them are missing.
std::vector<nft::RuleInsert> forward_accepts(const nft::BaseChain& chain, bool out, bool replies, bool published) {
    std::vector<uint8_t> ipv4_only;
    if (chain.family == nft::kFamilyInet) {  // an inet chain sees IPv6 too, and nsrun only means IPv4
        const uint8_t ipv4[] = {NFPROTO_IPV4};
        append(ipv4_only, nft::expr::meta_load(NFT_META_NFPROTO));
        append(ipv4_only, nft::expr::cmp(NFT_CMP_EQ, ipv4));
    }
    std::vector<nft::RuleInsert> rules;
    if (replies) {
        nft::RuleInsert rule{chain.family, chain.table, chain.name, ipv4_only, std::string(kLetRepliesComment)};
        append(rule.expressions, nft::expr::meta_load(NFT_META_OIFNAME));
        append(rule.expressions, nft::expr::cmp(NFT_CMP_EQ, bytes(kVethPrefix)));
        if (is_iptables_chain(chain.family, chain.table, chain.name)) {
            // iptables-nft (1.8.9) gives up on a whole chain ("incompatible, use 'nft' tool") when one rule has
            // a native `ct` expression, and Docker manages its rules through it. It writes -m conntrack as the
            // x_tables match through nft_compat, so nsrun writes exactly that: iptables -S then shows
            // "-o nsr+ -m conntrack --ctstate RELATED,ESTABLISHED". nft cannot write this form; hence netlink.
            xt_conntrack_mtinfo3 info{};
            info.match_flags = XT_CONNTRACK_STATE;
            info.state_mask = XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) | XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
            std::vector<uint8_t> padded(XT_ALIGN(sizeof info), 0);
            std::memcpy(padded.data(), &info, sizeof info);
            append(rule.expressions, nft::expr::xt_match("conntrack", 3, padded));
        } else {
            append(rule.expressions, nft::expr::ct_load(NFT_CT_STATE));
            append(rule.expressions,
                   nft::expr::bitwise_and(NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)));
            const uint8_t zero[4] = {};
            append(rule.expressions, nft::expr::cmp(NFT_CMP_NEQ, zero));
        }
        append(rule.expressions, nft::expr::accept());
        rules.push_back(std::move(rule));
    }
    if (published) {
        // New connections into a sandbox are only the ones a sandbox's own table (-p, port_publish.cc) DNAT'd
        // to it; "ct status dnat" lets exactly those through, as iptables' "-m conntrack --ctstate DNAT".
        nft::RuleInsert rule{chain.family, chain.table, chain.name, ipv4_only, std::string(kLetPublishedComment)};
        append(rule.expressions, nft::expr::meta_load(NFT_META_OIFNAME));
        append(rule.expressions, nft::expr::cmp(NFT_CMP_EQ, bytes(kVethPrefix)));
        if (is_iptables_chain(chain.family, chain.table, chain.name)) {
            xt_conntrack_mtinfo3 info{};
            info.match_flags = XT_CONNTRACK_STATE;
            info.state_mask = XT_CONNTRACK_STATE_DNAT;
            std::vector<uint8_t> padded(XT_ALIGN(sizeof info), 0);
            std::memcpy(padded.data(), &info, sizeof info);
            append(rule.expressions, nft::expr::xt_match("conntrack", 3, padded));
        } else {
            append(rule.expressions, nft::expr::ct_load(NFT_CT_STATUS));
            append(rule.expressions, nft::expr::bitwise_and(IPS_DST_NAT));
            const uint8_t zero[4] = {};
            append(rule.expressions, nft::expr::cmp(NFT_CMP_NEQ, zero));
        }
        append(rule.expressions, nft::expr::accept());
        rules.push_back(std::move(rule));
    }
    if (out) {  // inserted last, so it ends up first: most packets are the sandboxes' own
        nft::RuleInsert rule{chain.family, chain.table, chain.name, ipv4_only, std::string(kLetOutComment)};
        append(rule.expressions, nft::expr::meta_load(NFT_META_IIFNAME));
        append(rule.expressions, nft::expr::cmp(NFT_CMP_EQ, bytes(kVethPrefix)));
        append(rule.expressions, nft::expr::accept());
        rules.push_back(std::move(rule));
    }
    return rules;
}

// What is missing in the calling thread's network namespace for `pool`.
struct Missing {
    NatTableChange table;
    std::vector<nft::RuleInsert> foreign;
    bool forwarding = false;  // ip_forward is off
    bool any() const { return !table.empty() || !foreign.empty() || forwarding; }
};

Missing observe_everything(nft::Netlink& nl, const Ipv4Cidr& pool) {
    Missing missing;
    missing.forwarding = !ip_forward_on();
    auto table = nl.get_table(nft::kFamilyInet, kNatTable);
    std::optional<unsigned> version = table && table->comment ? nat_layout_version(*table->comment) : std::nullopt;
    if (!table) {
        missing.table = {NatTableChange::Table::create, {pool}, missing.forwarding};
    } else if (!version || *version < kNatLayoutVersion) {
        // An older layout (or a stranger's table squatting on the name): rebuild it in one transaction, keeping
        // every pool an earlier launch added and the guard if nsrun ever turned forwarding on.
        missing.table.table = NatTableChange::Table::replace;
        missing.table.pools.push_back(pool);
        for (const std::string& name : nl.object_names(nft::kFamilyInet, kNatTable, NFT_OBJECT_COUNTER)) {
            auto old = pool_from_counter_name(name);
            if (old && std::find(missing.table.pools.begin(), missing.table.pools.end(), *old) ==
                           missing.table.pools.end())
                missing.table.pools.push_back(*old);
        }
        missing.table.forward_guard =
            missing.forwarding || nl.has_chain(nft::kFamilyInet, kNatTable, kForwardGuard);
    } else {
        // This layout, or a newer one (which its own nsrun maintains, keeping pool counters and the guard).
        if (nl.object_use(nft::kFamilyInet, kNatTable, pool_counter_name(pool), NFT_OBJECT_COUNTER).value_or(0) == 0)
            missing.table.pools.push_back(pool);
        if (missing.forwarding) {
            auto guard = nl.rule_comments(nft::kFamilyInet, kNatTable, kForwardGuard);
            missing.table.forward_guard = std::find(guard.begin(), guard.end(), kGuardRuleComment) == guard.end();
        }
    }
    for (const nft::BaseChain& chain : nl.base_chains()) {
        // Under nftables every base chain on the hook gets the packet and any drop is final, so an accept in
        // nsrun's own table cannot override, say, iptables' FORWARD policy DROP that Docker sets: the accepts
        // have to go into each such chain. Only ip and inet chains see forwarded IPv4.
        if (chain.hook != NF_INET_FORWARD || chain.policy != NF_DROP) continue;
        if (chain.family != nft::kFamilyIp && chain.family != nft::kFamilyInet) continue;
        if (chain.family == nft::kFamilyInet && chain.table == kNatTable) continue;
        auto comments = nl.rule_comments(chain.family, chain.table, chain.name);
        auto has = [&](std::string_view c) { return std::find(comments.begin(), comments.end(), c) != comments.end(); };
        auto rules =
            forward_accepts(chain, !has(kLetOutComment), !has(kLetRepliesComment), !has(kLetPublishedComment));
        std::move(rules.begin(), rules.end(), std::back_inserter(missing.foreign));
    }
    return missing;
}

// observe_everything(), and when nothing is missing and the ruleset held still meanwhile, the record of it.
Missing observe(nft::Netlink& nl, const Ipv4Cidr& pool, std::optional<uint64_t> cookie) {
    uint32_t generation = nl.generation();
    Missing missing = observe_everything(nl, pool);
    if (!missing.any() && cookie && nl.generation() == generation) remember_verified(*cookie, generation, pool);
    return missing;
}

std::string describe(const Missing& missing) {
    std::string what;
    auto add = [&](std::string item) { what += (what.empty() ? "" : ", ") + std::move(item); };
    if (missing.table.table != NatTableChange::Table::keep) add("table inet nsrun");
    for (const Ipv4Cidr& pool : missing.table.pools) add("masquerade for " + pool.str());
    if (missing.table.forward_guard) add("forward guard");
    std::string last_chain;
    for (const nft::RuleInsert& rule : missing.foreign) {
        std::string chain = nft::family_name(rule.family) + " " + rule.table + " " + rule.chain;
        if (chain != last_chain) add("accepts in " + chain);
        last_chain = chain;
    }
    if (missing.forwarding) add("ip_forward");
    return what;
}

void apply(nft::Netlink& nl, const Missing& missing, StepLog& log) {
    if (!missing.table.empty()) {
        NftLibrary library;
        log.step("nat: loaded libnftables");
        {
            NftContext ctx(library);
            ctx.run(nat_table_script(missing.table), "installing nftables table inet nsrun");
            log.step("nat: committed table inet nsrun");
        }  // the context's socket closes here, which waits for the commit's RCU grace periods (ANCHORS: 12-30 ms)
        log.step("nat: closed the nftables context");
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
}

std::string quoted(std::string_view text) { return '"' + std::string(text) + '"'; }

}  // namespace

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

std::string nat_table_script(const NatTableChange& change) {
    const std::string table = "inet " + std::string(kNatTable);
    const std::string veths = quoted(std::string(kVethPrefix) + "*");
    std::string s;
    if (change.table == NatTableChange::Table::replace) {
        // `add` first so the delete cannot fail; the transaction swaps the table atomically, so running
        // sandboxes' established flows keep their conntrack NAT and new ones find the new rules.
        s += "add table " + table + "\n";
        s += "delete table " + table + "\n";
    }
    if (change.table != NatTableChange::Table::keep) {
        s += "add table " + table + " { comment " + quoted(nat_table_comment()) + "; }\n";
        s += "create chain " + table + " " + std::string(kPostrouting) +
             " { type nat hook postrouting priority srcnat; policy accept; }\n";
    }
    for (const Ipv4Cidr& pool : change.pools) {
        // The counter may be left over without its rule (someone flushed the chain): add-delete-create makes a
        // fresh one in either case, while a counter that a racing installer's rule already uses refuses the
        // delete (EBUSY), failing the whole transaction instead of duplicating the rule.
        std::string counter = pool_counter_name(pool);
        s += "add counter " + table + " " + counter + "\n";
        s += "delete counter " + table + " " + counter + "\n";
        s += "create counter " + table + " " + counter + "\n";
        // Traffic between two sandboxes (out through another nsr*) keeps its source address.
        s += "add rule " + table + " " + std::string(kPostrouting) + " ip saddr " + pool.str() + " oifname != " +
             veths + " counter name " + quoted(counter) + " masquerade\n";
    }
    if (change.forward_guard) {
        // add + flush + add rule leaves exactly one rule whatever was there, racing installers included.
        const std::string guard = table + " " + std::string(kForwardGuard);
        s += "add chain " + guard + " { type filter hook forward priority filter; policy accept; comment " +
             quoted(kGuardComment) + "; }\n";
        s += "flush chain " + guard + "\n";
        // IPv4 only: nsrun turns on only IPv4 forwarding, and an inet chain must not touch IPv6's.
        s += "add rule " + guard + " meta nfproto ipv4 iifname != " + veths + " oifname != " + veths +
             " drop comment " + quoted(kGuardRuleComment) + "\n";
    }
    return s;
}

bool is_iptables_chain(uint8_t family, std::string_view table, std::string_view chain) {
    return family == nft::kFamilyIp && chain == "FORWARD" &&
           (table == "filter" || table == "mangle" || table == "security");
}

void ensure_nat_rules(const Ipv4Cidr& pool, StepLog& log) {
    nft::Netlink nl;
    std::optional<uint64_t> cookie = nl.netns_cookie();
    if (cookie && ip_forward_on() && is_verified(*cookie, nl.generation(), pool)) {
        if (log.enabled()) log.step("nat: rules for " + pool.str() + " in place (ruleset unchanged since checked)");
        return;
    }
    if (!observe(nl, pool, cookie).any()) {
        if (log.enabled()) log.step("nat: rules for " + pool.str() + " in place");
        return;
    }
    log.step("nat: rules incomplete, waiting for " + std::string(kLockFile));
    FileLock lock;
    log.step("nat: took the lock");
    // A transaction that fails changes nothing, and the most likely cause is the host's firewall changing
    // between observing and writing (Docker restarting recreates its chains): observe again and retry.
    for (int attempt = 1;; ++attempt) {
        Missing missing = observe(nl, pool, cookie);
        if (!missing.any()) return;
        if (attempt > kAttempts)
            fail("setting up NAT for " + pool.str(), "still missing after installing: " + describe(missing));
        log.step("nat: adding " + describe(missing));
        try {
            apply(nl, missing, log);
        } catch (const Error&) {
            if (attempt == kAttempts) throw;
            log.step("nat: that failed; observing again");
        }
    }
}

}  // namespace nsrun::net
