// nf_tables over a raw NETLINK_NETFILTER socket: the read-only queries behind ensure_nat_rules()'s
// steady-state check, and the writes nsrun cannot make through libnftables (rules in iptables-nft's chains,
// see nat_rules.cc; the owner table of -p, which must live exactly as long as a socket nsrun holds). Talking
// netlink directly keeps the check to a few syscalls; libnftables would cost a dlopen plus building its
// context (which reads the whole ruleset) on every launch. The messages themselves are built and parsed by libnftnl, the netfilter
// project's library for them (nft and iptables-nft are built on it), linked statically; libmnl under it is
// a shared object (Debian ships no archive), which the loader maps at every start.
#pragma once

// glibc's <netinet/in.h> first: the kernel's headers then leave out what it already defines.
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <cstdint>
#include <memory>
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

// libnftnl's objects, freed by their own destructors.
template <class T, void (*Free)(const T*)>
struct Deleter {
    void operator()(T* object) const { Free(object); }
};
using Table = std::unique_ptr<nftnl_table, Deleter<nftnl_table, nftnl_table_free>>;
using Chain = std::unique_ptr<nftnl_chain, Deleter<nftnl_chain, nftnl_chain_free>>;
using Rule = std::unique_ptr<nftnl_rule, Deleter<nftnl_rule, nftnl_rule_free>>;
using Expr = std::unique_ptr<nftnl_expr, Deleter<nftnl_expr, nftnl_expr_free>>;
using Object = std::unique_ptr<nftnl_obj, Deleter<nftnl_obj, nftnl_obj_free>>;

// The comment that nft keeps in a table's, chain's or rule's userdata (type-length-value records in which
// type 0 is the comment, for all three), if there is one.
std::optional<std::string> udata_comment(std::span<const uint8_t> udata);
// The userdata that carries `comment`, as nft writes it.
std::vector<uint8_t> udata_with_comment(std::string_view comment);

// Rule expressions in the form nft and iptables-nft give them, so that both print the rules nsrun writes
// like their own.
namespace expr {
Expr meta_load(uint32_t key);  // into register 1
Expr cmp(uint32_t op, std::span<const uint8_t> value);  // register 1 against value
Expr ct_load(uint32_t key);  // into register 1
Expr bitwise_and(uint32_t mask);  // register 1 &= mask (4 bytes, host order)
Expr bitwise_or(uint32_t bits);   // register 1 |= bits (4 bytes, host order)
Expr meta_store(uint32_t key);    // the meta key (e.g. NFT_META_MARK) = register 1
Expr xt_match(std::string_view name, uint32_t revision, std::span<const uint8_t> info);
Expr accept();
Expr drop();
// `len` bytes at `offset` from NFT_PAYLOAD_NETWORK_HEADER or NFT_PAYLOAD_TRANSPORT_HEADER, into register 1.
Expr payload_load(uint32_t base, uint32_t offset, uint32_t len);
// The route type (RTN_LOCAL, ...) of the packet's destination address, into register 1: `fib daddr type`.
Expr fib_daddr_type();
// A constant into register `reg` (NFT_REG_1...).
Expr immediate(uint32_t reg, std::span<const uint8_t> value);
// dnat to the IPv4 address in register `address_reg` and the port in `port_reg`.
// nat_family: NFPROTO_IPV4 or NFPROTO_IPV6 (the address register holds 4 or 16 bytes).
Expr dnat(uint8_t nat_family, uint32_t address_reg, uint32_t port_reg);
Expr masquerade();
}  // namespace expr

// A rule for `family` `table` `chain` made of `expressions` in order, with `comment` (if not empty) in its
// userdata.
Rule make_rule(uint8_t family, std::string_view table, std::string_view chain, std::vector<Expr> expressions,
               std::string_view comment = {});
// "ip filter FORWARD": where a rule goes, for messages.
std::string rule_chain(const nftnl_rule* rule);

// One nf_tables transaction: the batch begin, the messages (built by libnftnl), the batch end, one after
// another, numbered consecutively from first_seq (the begin).
class Batch {
public:
    // `messages`: about how many will come between the begin and the end.
    Batch(size_t messages, uint32_t first_seq);

    // NFT_MSG_NEW* for the object, with NLM_F_REQUEST | flags.
    void add(const nftnl_table* table, uint16_t flags);
    void add(const nftnl_chain* chain, uint16_t flags);
    void add(const nftnl_rule* rule, uint16_t flags);
    // Appends the batch end and returns the whole transaction.
    std::vector<uint8_t> finish();

private:
    template <class Build>
    void append(Build&& build);

    std::vector<uint8_t> out_;
    uint32_t seq_;
};

// One nf_tables transaction that puts every rule at the top of its chain, in order (so the last one ends up
// first). Sequence numbers run from first_seq: first_seq is the batch begin, each rule the next one.
std::vector<uint8_t> encode_insert_batch(std::span<const Rule> rules, uint32_t first_seq);

struct TableInfo {
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

    std::optional<TableInfo> get_table(uint8_t family, std::string_view table);
    bool has_chain(uint8_t family, std::string_view table, std::string_view chain);
    // How many rules use the named object (NFTA_OBJ_USE), or nullopt if there is no such object.
    std::optional<uint32_t> object_use(uint8_t family, std::string_view table, std::string_view name, uint32_t type);
    std::vector<std::string> object_names(uint8_t family, std::string_view table, uint32_t type);
    // Every base chain of every table and family.
    std::vector<BaseChain> base_chains();
    // The comments of the rules of one chain, in order; an empty string for a rule without one.
    std::vector<std::string> rule_comments(uint8_t family, std::string_view table, std::string_view chain);
    // How many requests and batches every Netlink of this process has sent: what tells a one-message steady
    // state from a full check.
    static uint64_t sent() noexcept;

    // Runs encode_insert_batch(rules) as one transaction; throws on any error with the kernel's reason.
    void insert_rules(std::span<const Rule> rules);

    // For transactions of other shapes: reserves `count` consecutive sequence numbers and returns the first.
    uint32_t take_seqs(uint32_t count);
    // Sends one batch whose begin message has sequence number first_seq and whose next `acked` messages carry
    // NLM_F_ACK, and returns once the kernel has answered each of them; throws with the kernel's reason.
    void commit(std::span<const uint8_t> batch, uint32_t first_seq, size_t acked, const std::string& doing);
    // One request of any NETLINK_NETFILTER subsystem (a whole netlink message; its sequence number and
    // NLM_F_ACK are set here) that the kernel answers with an acknowledgement: returns 0 or the kernel's errno.
    int acknowledged(std::vector<uint8_t> request);

private:
    template <class Build, class OnReply>
    int query(uint16_t msg, uint16_t flags, uint8_t family, Build&& build, OnReply&& on_reply);
    int exchange(std::span<const uint8_t> request, uint32_t seq, bool dump, void* ctx,
                 void (*on_reply)(void* ctx, nlmsghdr* reply));

    UniqueFd fd_;
    uint32_t seq_ = 0;
    std::vector<uint8_t> buf_;
};

}  // namespace nsrun::net::nft
