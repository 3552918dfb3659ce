// The host side of --net=nat: masquerade for the sandboxes' pools (IPv4 and IPv6), a way through host
// firewalls whose forward hook drops by default, IP forwarding, and egress isolation (sandboxes reach neither
// the host's own services nor each other, are refused at once, cannot forge their source and hold a limited
// number of connections). Everything shared lives in `table inet nsrun`; nothing is per sandbox (but the
// owned DNS table of host_dns.h, for a resolver on the host), so nothing can leak when one dies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"
#include "base/ipv6_address.h"
#include "base/step_log.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {

struct NatPools {
    Ipv4Cidr v4;
    std::optional<Ipv6Cidr> v6;  // set when the launch is dual-stack
    // Connections (conntrack entries) one sandbox may hold at once, counted by the shared table per host veth.
    uint32_t connection_limit = kDefaultConnectionLimit;
};

// In the calling thread's current network namespace (the "host"): make sure traffic forwarded from sandboxes
// in the pools (host veth ends are named nsr<N>) is masqueraded and is not dropped by the host's firewall,
// that the isolation rules are in place, and that forwarding is on (IPv6's only for a dual-stack launch).
// Idempotent and safe against concurrent nsrun processes. When everything is in place it never loads
// libnftables: it reads the ruleset generation, the forwarding sysctls and /run/nsrun/nat.verified, or after
// any change to the host's ruleset a few netlink dumps (bench/nat_check_bench measures both).
// Returns what the user should be told, when this call changed a host setting outside nftables (it turned
// forwarding on, and so the guard that keeps the host from forwarding anything else is now in force).
std::optional<std::string> ensure_nat_rules(const NatPools& pools, StepLog& log);
inline std::optional<std::string> ensure_nat_rules(const Ipv4Cidr& pool, StepLog& log) {
    return ensure_nat_rules(NatPools{pool, {}}, log);
}

// ---- The pure pieces, public for the unit tests ----

inline constexpr std::string_view kNatTable = "nsrun";  // family inet
inline constexpr unsigned kNatLayoutVersion = 3;
// The host end of an --allow-host sandbox is in this interface group (IFLA_GROUP), which the shared isolation
// rule lets through: a property of the veth itself, so it goes away with it and costs no rule per sandbox.
inline constexpr uint32_t kAllowHostGroup = 0x6e73;  // "ns"
// The named counter that every isolation drop counts into; its use count proves all of them are in place.
inline constexpr std::string_view kIsolationCounter = "isolation";
inline constexpr uint32_t kIsolationRules = 9;
// The dynamic set in which `ct count` keeps each sandbox's connections, keyed by its host veth's index.
inline constexpr std::string_view kConnectionSet = "connections";
// The refusals of the connection limit count into "connection_limit_<N>": the name says which limit the
// rules enforce, and its use count that all of them are there.
inline constexpr uint32_t kConnectionLimitRules = 4;
std::string connection_limit_counter_name(uint32_t limit);
// The packet mark bit that a sandbox's own table (host_dns.h) sets on DNS to a resolver on the host it was
// given, and that the shared input chain lets in. table inet nsrun clears it first on everything from a
// sandbox, so only nsrun's own rules can have set it.
inline constexpr uint32_t kHostDnsMark = 0x2000;
// The input priority of the sandbox's own marking chain: after the shared clearing, before host_isolation.
inline constexpr int32_t kHostDnsMarkPriority = -10;
// Rules nsrun puts at the top of other programs' drop-policy forward chains carry these comments; they are
// how the next launch knows they are there.
inline constexpr std::string_view kLetOutComment = "nsrun: let sandboxes (nsr*) out";
inline constexpr std::string_view kLetRepliesComment = "nsrun: let replies reach sandboxes (nsr*)";
inline constexpr std::string_view kLetPublishedComment = "nsrun: let connections to published ports reach sandboxes (nsr*)";
inline constexpr std::string_view kLetOut6Comment = "nsrun: let sandboxes (nsr*) out (IPv6)";
inline constexpr std::string_view kLetReplies6Comment = "nsrun: let replies reach sandboxes (nsr*) (IPv6)";
inline constexpr std::string_view kLetPublished6Comment =
    "nsrun: let connections to published ports reach sandboxes (nsr*) (IPv6)";

// "nsrun v1: ..." : says what the table is, that it may be deleted, and which layout it has.
std::string nat_table_comment();
// The layout version in a table comment that nat_table_comment() wrote (of any version), else nullopt.
std::optional<unsigned> nat_layout_version(std::string_view comment);

// The named counter that a pool's masquerade rule counts into: "pool_203_0_113_0_24".
std::string pool_counter_name(const Ipv4Cidr& pool);
std::optional<Ipv4Cidr> pool_from_counter_name(std::string_view name);
// The same for an IPv6 pool: "pool6_fd6e7372756e00000000000000000000_64" (every nibble, so it reads back).
std::string pool6_counter_name(const Ipv6Cidr& pool);
std::optional<Ipv6Cidr> pool6_from_counter_name(std::string_view name);

// Which families nsrun turned forwarding on for, and so must keep from forwarding anything but nsr* traffic.
struct ForwardGuard {
    bool ipv4 = false;
    bool ipv6 = false;
    friend bool operator==(const ForwardGuard&, const ForwardGuard&) = default;
};

// What one nft transaction has to add to table inet nsrun. A created or replaced table comes with its
// isolation chains.
struct NatTableChange {
    enum class Table { keep, create, replace } table = Table::keep;
    std::vector<Ipv4Cidr> pools;    // each gets its counter and masquerade rule
    std::vector<Ipv6Cidr> pools6;   // likewise
    std::optional<ForwardGuard> forward_guard;  // the guard chain of each family set is (re)written
    uint32_t connection_limit = kDefaultConnectionLimit;  // for a created or replaced table
    bool empty() const { return table == Table::keep && pools.empty() && pools6.empty() && !forward_guard; }
};
// The nft script for `change`; empty when there is nothing to do.
std::string nat_table_script(const NatTableChange& change);

// Whether a base chain is one of iptables-nft's or ip6tables-nft's (ip/ip6 filter/mangle/security FORWARD):
// rules there must use only expressions iptables-nft can translate back, or `iptables -S`, and Docker with it,
// stop working.
bool is_iptables_chain(uint8_t family, std::string_view table, std::string_view chain);

}  // namespace nsrun::net
