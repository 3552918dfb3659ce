// nf_tables over a raw NETLINK_NETFILTER socket: the read-only queries behind ensure_nat_rules()'s
// steady-state check, and the one write nsrun cannot make through libnftables (rules in iptables-nft's
// chains, see nat_rules.cc). Talking netlink directly keeps the check to a few syscalls; libnftables would
// cost a dlopen plus 0.1-0.8 ms of context work on every launch.
#pragma once

// glibc's <netinet/in.h> first: the kernel's headers then leave out what it already defines.
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"

struct nlmsghdr;

namespace nsrun::net::nft {

// nf_tables families as nfgenmsg carries them.
inline constexpr uint8_t kFamilyIp = NFPROTO_IPV4;
inline constexpr uint8_t kFamilyInet = NFPROTO_INET;

// "ip", "inet", ... for messages; "family <n>" for anything unexpected.
std::string family_name(uint8_t family);

// Netlink attributes appended to a byte buffer, 4-byte aligned as the kernel expects. Encoded attributes are
// relocatable, so an expression built on its own can be spliced into a rule with put_raw().
class AttrWriter {
public:
    void put(uint16_t type, const void* data, size_t len);
    void put_str(uint16_t type, std::string_view value);  // NUL-terminated, as nf_tables wants names
    void put_be32(uint16_t type, uint32_t value);
    void put_raw(std::span<const uint8_t> attrs);
    // Returns the nest's offset for end_nest(); the kernel accepts NLA_F_NESTED, which libnftnl also sets.
    size_t begin_nest(uint16_t type);
    void end_nest(size_t offset);

    std::vector<uint8_t>& bytes() { return buf_; }
    const std::vector<uint8_t>& bytes() const { return buf_; }

private:
    std::vector<uint8_t> buf_;
};

// Appends one netlink message (nlmsghdr + nfgenmsg + attrs) to `out`.
void append_message(std::vector<uint8_t>& out, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq,
                    uint16_t res_id, std::span<const uint8_t> attrs);

// The comment that nft keeps in a table's, chain's or rule's userdata (type-length-value records in which
// type 0 is the comment, for all three), if there is one.
std::optional<std::string> udata_comment(std::span<const uint8_t> udata);
// The userdata that carries `comment`, as nft writes it.
std::vector<uint8_t> udata_with_comment(std::string_view comment);

// Rule expressions, each encoded as one NFTA_LIST_ELEM in the form libnftnl gives it, so nft and
// iptables-nft print the rules nsrun writes like their own.
namespace expr {
std::vector<uint8_t> meta_load(uint32_t key);  // into register 1
std::vector<uint8_t> cmp(uint32_t op, std::span<const uint8_t> value);  // register 1 against value
std::vector<uint8_t> ct_load(uint32_t key);  // into register 1
std::vector<uint8_t> bitwise_and(uint32_t mask);  // register 1 &= mask (4 bytes, host order)
std::vector<uint8_t> xt_match(std::string_view name, uint32_t revision, std::span<const uint8_t> info);
std::vector<uint8_t> accept();
std::vector<uint8_t> drop();
// `len` bytes at `offset` from NFT_PAYLOAD_NETWORK_HEADER or NFT_PAYLOAD_TRANSPORT_HEADER, into register 1.
std::vector<uint8_t> payload_load(uint32_t base, uint32_t offset, uint32_t len);
// The route type (RTN_LOCAL, ...) of the packet's destination address, into register 1: `fib daddr type`.
std::vector<uint8_t> fib_daddr_type();
// A constant into register `reg` (NFT_REG_1...).
std::vector<uint8_t> immediate(uint32_t reg, std::span<const uint8_t> value);
// dnat to the IPv4 address in register `address_reg` and the port in `port_reg`.
std::vector<uint8_t> dnat_ipv4(uint32_t address_reg, uint32_t port_reg);
std::vector<uint8_t> masquerade();
}  // namespace expr

struct RuleInsert {
    uint8_t family = 0;
    std::string table;
    std::string chain;
    std::vector<uint8_t> expressions;  // concatenated expr::* encodings
    std::string comment;
};

// One nf_tables transaction that puts every rule at the top of its chain, in order (so the last one ends up
// first). Sequence numbers run from first_seq: first_seq is the batch begin, each rule the next one.
std::vector<uint8_t> encode_insert_batch(std::span<const RuleInsert> rules, uint32_t first_seq);

struct Table {
    std::optional<std::string> comment;
};

struct BaseChain {
    uint8_t family = 0;
    std::string table;
    std::string name;
    uint32_t hook = 0;
    uint32_t policy = NF_ACCEPT;
};

// One NETLINK_NETFILTER socket in the calling thread's network namespace. Each query is one request and its
// replies; no query leaves anything behind in the socket for the next.
class Netlink {
public:
    Netlink();

    // The ruleset's generation: every committed nf_tables transaction (nft's, iptables-nft's, nsrun's) bumps
    // it, which is how nft itself knows whether its cached copy of the ruleset is still current.
    uint32_t generation();
    // The socket's network namespace's cookie, never reused until reboot (kernel 5.14+; else nullopt).
    std::optional<uint64_t> netns_cookie() const;

    std::optional<Table> get_table(uint8_t family, std::string_view table);
    bool has_chain(uint8_t family, std::string_view table, std::string_view chain);
    // How many rules use the named object (NFTA_OBJ_USE), or nullopt if there is no such object.
    std::optional<uint32_t> object_use(uint8_t family, std::string_view table, std::string_view name, uint32_t type);
    std::vector<std::string> object_names(uint8_t family, std::string_view table, uint32_t type);
    // Every base chain of every table and family.
    std::vector<BaseChain> base_chains();
    // The comments of the rules of one chain, in order; an empty string for a rule without one.
    std::vector<std::string> rule_comments(uint8_t family, std::string_view table, std::string_view chain);
    // Runs encode_insert_batch(rules) as one transaction; throws on any error with the kernel's reason.
    void insert_rules(std::span<const RuleInsert> rules);

    // For transactions of other shapes: reserves `count` consecutive sequence numbers and returns the first.
    uint32_t take_seqs(uint32_t count);
    // Sends one batch whose begin message has sequence number first_seq and whose next `acked` messages carry
    // NLM_F_ACK, and returns once the kernel has answered each of them; throws with the kernel's reason.
    void commit(std::span<const uint8_t> batch, uint32_t first_seq, size_t acked, const std::string& doing);
    // One request of any NETLINK_NETFILTER subsystem (`type` is the whole nlmsg_type) that the kernel answers
    // with an acknowledgement: returns 0 or the kernel's errno.
    int acknowledged(uint16_t type, uint8_t family, const AttrWriter& attrs);

private:
    template <class OnReply>
    int query(uint16_t msg, uint16_t flags, uint8_t family, const AttrWriter& attrs, OnReply&& on_reply);
    int exchange(std::span<const uint8_t> request, uint32_t seq, bool dump, void* ctx,
                 void (*on_reply)(void* ctx, nlmsghdr* reply));

    UniqueFd fd_;
    uint32_t seq_ = 0;
    std::vector<uint8_t> buf_;
};

}  // namespace nsrun::net::nft
