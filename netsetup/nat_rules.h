// The host side of --net=nat: masquerade for the sandboxes' pool, a way through host firewalls whose forward
// hook drops by default, and IPv4 forwarding. Everything shared lives in `table inet nsrun`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"
#include "base/step_log.h"

namespace nsrun::net {

// In the calling thread's current network namespace (the "host"): make sure traffic forwarded from sandboxes
// in `pool` (host veth ends are named nsr<N>) is masqueraded and is not dropped by the host's firewall, and
// that IPv4 forwarding is on. Idempotent and safe against concurrent nsrun processes. When everything is in
// place it never loads libnftables: it reads the ruleset generation, ip_forward and /run/nsrun/nat.verified
// (~7 us), or after any change to the host's ruleset a few netlink dumps (~25 us on a small ruleset).
void ensure_nat_rules(const Ipv4Cidr& pool, StepLog& log);

// ---- The pure pieces, public for the unit tests ----

inline constexpr std::string_view kNatTable = "nsrun";  // family inet
inline constexpr unsigned kNatLayoutVersion = 1;
// Rules nsrun puts at the top of other programs' drop-policy forward chains carry these comments; they are
// how the next launch knows they are there.
inline constexpr std::string_view kLetOutComment = "nsrun: let sandboxes (nsr*) out";
inline constexpr std::string_view kLetRepliesComment = "nsrun: let replies reach sandboxes (nsr*)";
inline constexpr std::string_view kLetPublishedComment = "nsrun: let connections to published ports reach sandboxes (nsr*)";

// "nsrun v1: ..." : says what the table is, that it may be deleted, and which layout it has.
std::string nat_table_comment();
// The layout version in a table comment that nat_table_comment() wrote (of any version), else nullopt.
std::optional<unsigned> nat_layout_version(std::string_view comment);

// The named counter that a pool's masquerade rule counts into: "pool_203_0_113_0_24".
std::string pool_counter_name(const Ipv4Cidr& pool);
std::optional<Ipv4Cidr> pool_from_counter_name(std::string_view name);

// What one nft transaction has to add to table inet nsrun.
struct NatTableChange {
    enum class Table { keep, create, replace } table = Table::keep;
    std::vector<Ipv4Cidr> pools;  // each gets its counter and masquerade rule
    bool forward_guard = false;
    bool empty() const { return table == Table::keep && pools.empty() && !forward_guard; }
};
// The nft script for `change`; empty when there is nothing to do.
std::string nat_table_script(const NatTableChange& change);

// Whether a base chain is one of iptables-nft's (ip filter/mangle/security FORWARD): rules there must use only
// expressions iptables-nft can translate back, or `iptables -S`, and Docker with it, stop working.
bool is_iptables_chain(uint8_t family, std::string_view table, std::string_view chain);

}  // namespace nsrun::net
