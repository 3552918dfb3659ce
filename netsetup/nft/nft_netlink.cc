#include "netsetup/nft/nft_netlink.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/error.h"

namespace nsrun::net::nft {

namespace {

constexpr size_t kRecvBufferSize = 64 * 1024;  // the kernel builds dump messages of at most 32 KiB
std::atomic<uint64_t> g_sent{0};
// Room for one request or one message of a batch. libnftnl writes without bounds checks, so this must hold
// the largest nsrun builds: two names of at most 256 bytes (NFT_NAME_MAXLEN), a comment's userdata (130
// bytes) and a rule's at most seven expressions (~550 bytes with the xt match's info): ~1.3 KiB.
constexpr size_t kMaxMessage = 4096;

template <class T>
T* checked(T* allocated) {
    if (!allocated) throw std::bad_alloc();
    return allocated;
}

Expr make(const char* name) { return Expr(checked(nftnl_expr_alloc(name))); }

std::string text(std::string_view value) { return std::string(value); }

}  // namespace

std::string family_name(uint8_t family) {
    switch (family) {
        case NFPROTO_INET: return "inet";
        case NFPROTO_IPV4: return "ip";
        case NFPROTO_IPV6: return "ip6";
        case NFPROTO_ARP: return "arp";
        case NFPROTO_BRIDGE: return "bridge";
        case NFPROTO_NETDEV: return "netdev";
        default: return "family " + std::to_string(family);
    }
}

std::optional<std::string> udata_comment(std::span<const uint8_t> udata) {
    // Type 0 is the comment for tables, chains and rules alike (NFTNL_UDATA_{TABLE,CHAIN,RULE}_COMMENT).
    static_assert(NFTNL_UDATA_TABLE_COMMENT == 0 && NFTNL_UDATA_CHAIN_COMMENT == 0 && NFTNL_UDATA_RULE_COMMENT == 0);
    struct Found {
        const uint8_t* end;
        std::optional<std::string> comment;
    } found{udata.data() + udata.size(), std::nullopt};
    // nftnl_udata_parse() walks the records but leaves bounds to the callback: a record must fit in what is
    // left, header included, or the walk stops.
    auto on_record = [](const nftnl_udata* record, void* data) -> int {
        auto* f = static_cast<Found*>(data);
        const auto* at = reinterpret_cast<const uint8_t*>(record);
        if (f->end - at < 2) return -1;
        const auto* value = static_cast<const char*>(nftnl_udata_get(record));
        size_t len = nftnl_udata_len(record);
        if (size_t(f->end - reinterpret_cast<const uint8_t*>(value)) < len) return -1;
        if (nftnl_udata_type(record) == NFTNL_UDATA_RULE_COMMENT && !f->comment)
            f->comment = std::string(value, strnlen(value, len));
        return 0;
    };
    if (!udata.empty()) nftnl_udata_parse(udata.data(), uint32_t(udata.size()), on_record, &found);
    return std::move(found.comment);
}

std::vector<uint8_t> udata_with_comment(std::string_view comment) {
    // nft caps comments at 128 bytes with the NUL; the kernel's limit for all userdata is 256.
    if (comment.size() > 127) fail("encoding nftables comment", "longer than 127 bytes");
    struct Free {
        void operator()(nftnl_udata_buf* buf) const { nftnl_udata_buf_free(buf); }
    };
    std::unique_ptr<nftnl_udata_buf, Free> buf(checked(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)));
    if (!nftnl_udata_put_strz(buf.get(), NFTNL_UDATA_RULE_COMMENT, text(comment).c_str()))
        fail("encoding nftables comment", "does not fit");
    const auto* data = static_cast<const uint8_t*>(nftnl_udata_buf_data(buf.get()));
    return {data, data + nftnl_udata_buf_len(buf.get())};
}

namespace expr {

Expr meta_load(uint32_t key) {
    Expr e = make("meta");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
    return e;
}

Expr cmp(uint32_t op, std::span<const uint8_t> value) {
    Expr e = make("cmp");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e.get(), NFTNL_EXPR_CMP_DATA, value.data(), uint32_t(value.size()));
    return e;
}

Expr ct_load(uint32_t key) {
    Expr e = make("ct");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
    return e;
}

namespace {
// register 1 = (register 1 & mask) ^ xor_bits, the one boolean form the kernel's bitwise takes.
Expr bitwise_mask_xor(uint32_t mask, uint32_t xor_bits) {
    Expr e = make("bitwise");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, sizeof mask);
    nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
    nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_XOR, &xor_bits, sizeof xor_bits);
    return e;
}
}  // namespace

Expr bitwise_or(uint32_t bits) { return bitwise_mask_xor(~bits, bits); }

Expr meta_store(uint32_t key) {
    Expr e = make("meta");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_SREG, NFT_REG_1);
    return e;
}

Expr bitwise_and(uint32_t mask) { return bitwise_mask_xor(mask, 0); }

Expr xt_match(std::string_view name, uint32_t revision, std::span<const uint8_t> info) {
    Expr e = make("match");
    nftnl_expr_set_str(e.get(), NFTNL_EXPR_MT_NAME, text(name).c_str());
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_MT_REV, revision);
    // The match takes the info's memory over and free()s it with the expression, as iptables-nft hands it.
    void* copy = checked(std::calloc(1, info.size()));
    std::memcpy(copy, info.data(), info.size());
    nftnl_expr_set(e.get(), NFTNL_EXPR_MT_INFO, copy, uint32_t(info.size()));
    return e;
}

namespace {
Expr verdict(uint32_t code) {
    Expr e = make("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, code);
    return e;
}
}  // namespace

Expr accept() { return verdict(NF_ACCEPT); }

Expr drop() { return verdict(NF_DROP); }

Expr payload_load(uint32_t base, uint32_t offset, uint32_t len) {
    Expr e = make("payload");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, len);
    return e;
}

Expr fib_daddr_type() {
    Expr e = make("fib");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
    return e;
}

Expr immediate(uint32_t reg, std::span<const uint8_t> value) {
    Expr e = make("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e.get(), NFTNL_EXPR_IMM_DATA, value.data(), uint32_t(value.size()));
    return e;
}

Expr dnat(uint8_t nat_family, uint32_t address_reg, uint32_t port_reg) {
    Expr e = make("nat");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_FAMILY, nat_family);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_ADDR_MIN, address_reg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_PROTO_MIN, port_reg);
    // As nft writes it; the kernel implies it too.
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
    return e;
}

Expr masquerade() { return make("masq"); }

}  // namespace expr

Rule make_rule(uint8_t family, std::string_view table, std::string_view chain, std::vector<Expr> expressions,
               std::string_view comment) {
    Rule rule(checked(nftnl_rule_alloc()));
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, family);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, text(table).c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, text(chain).c_str());
    for (Expr& e : expressions) nftnl_rule_add_expr(rule.get(), e.release());  // the rule owns them now
    if (!comment.empty()) {
        std::vector<uint8_t> udata = udata_with_comment(comment);
        nftnl_rule_set_data(rule.get(), NFTNL_RULE_USERDATA, udata.data(), uint32_t(udata.size()));
    }
    return rule;
}

std::string rule_chain(const nftnl_rule* rule) {
    return family_name(uint8_t(nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY))) + " " +
           nftnl_rule_get_str(rule, NFTNL_RULE_TABLE) + " " + nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
}

Batch::Batch(size_t messages, uint32_t first_seq) : seq_(first_seq) {
    out_.reserve((messages + 2) * 512);  // nsrun's messages: 20 bytes (begin, end) to ~1 KiB (a foreign rule)
    append([&](char* buf) { return nftnl_batch_begin(buf, seq_++); });
}

template <class Build>
void Batch::append(Build&& build) {
    // Built apart and copied in: a message's size is known only once it is built. Zeroed, because libmnl
    // (1.0.4) leaves the padding after an attribute as it finds it.
    alignas(nlmsghdr) char buf[kMaxMessage] = {};
    const nlmsghdr* nlh = build(buf);
    if (nlh->nlmsg_len > sizeof buf) std::abort();  // past the buffer already: kMaxMessage is wrong
    out_.insert(out_.end(), buf, buf + NLMSG_ALIGN(nlh->nlmsg_len));
}

void Batch::add(const nftnl_table* table, uint16_t flags) {
    append([&](char* buf) {
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWTABLE,
                                              uint16_t(nftnl_table_get_u32(table, NFTNL_TABLE_FAMILY)), flags, seq_++);
        nftnl_table_nlmsg_build_payload(nlh, table);
        return nlh;
    });
}

void Batch::add(const nftnl_chain* chain, uint16_t flags) {
    append([&](char* buf) {
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN,
                                              uint16_t(nftnl_chain_get_u32(chain, NFTNL_CHAIN_FAMILY)), flags, seq_++);
        nftnl_chain_nlmsg_build_payload(nlh, chain);
        return nlh;
    });
}

void Batch::add(const nftnl_rule* rule, uint16_t flags) {
    append([&](char* buf) {
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE,
                                              uint16_t(nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY)), flags, seq_++);
        // libnftnl's signature lacks the const; building only reads the rule.
        nftnl_rule_nlmsg_build_payload(nlh, const_cast<nftnl_rule*>(rule));
        return nlh;
    });
}

std::vector<uint8_t> Batch::finish() {
    append([&](char* buf) { return nftnl_batch_end(buf, seq_++); });
    return std::move(out_);
}

std::vector<uint8_t> encode_insert_batch(std::span<const Rule> rules, uint32_t first_seq) {
    Batch batch(rules.size(), first_seq);
    // Without NLM_F_APPEND and a position the kernel puts the rule at the head of the chain.
    for (const Rule& rule : rules) batch.add(rule.get(), NLM_F_CREATE | NLM_F_ACK);
    return batch.finish();
}

Netlink::Netlink() : buf_(kRecvBufferSize) {
    fd_ = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
    if (!fd_) throw_errno("opening a netfilter netlink socket");
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) != 0)
        throw_errno("connecting the netfilter netlink socket");
}

int Netlink::exchange(std::span<const uint8_t> request, uint32_t seq, bool dump, void* ctx,
                      void (*on_reply)(void*, nlmsghdr*)) {
    g_sent.fetch_add(1, std::memory_order_relaxed);
    if (::send(fd_.get(), request.data(), request.size(), 0) != ssize_t(request.size()))
        throw_errno("sending a netfilter netlink request");
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf_.data(), buf_.size(), MSG_TRUNC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("reading a netfilter netlink reply");
        if (size_t(n) > buf_.size()) fail("reading a netfilter netlink reply", "message larger than 64 KiB");
        int left = int(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data()); NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
            if (nlh->nlmsg_seq != seq) continue;  // a late answer to an earlier request
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return EPROTO;
                return -static_cast<nlmsgerr*>(NLMSG_DATA(nlh))->error;
            }
            if (nlh->nlmsg_type == NLMSG_DONE) {
                int err = 0;
                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof err)) std::memcpy(&err, NLMSG_DATA(nlh), sizeof err);
                return -err;
            }
            on_reply(ctx, nlh);
            if (!dump) return 0;
        }
    }
}

template <class Build, class OnReply>
int Netlink::query(uint16_t msg, uint16_t flags, uint8_t family, Build&& build, OnReply&& on_reply) {
    alignas(nlmsghdr) char request[kMaxMessage] = {};  // zeroed padding, as in Batch::append()
    uint32_t seq = ++seq_;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(request, msg, family, flags, seq);
    build(nlh);
    auto trampoline = [](void* ctx, nlmsghdr* reply) { (*static_cast<OnReply*>(ctx))(reply); };
    return exchange({reinterpret_cast<const uint8_t*>(request), nlh->nlmsg_len}, seq, (flags & NLM_F_DUMP) != 0,
                    &on_reply, trampoline);
}

namespace {

// A libnftnl object that names what a request is about (table, chain, object), built with nftnl_*_nlmsg_build_payload.
Table table_named(std::string_view name) {
    Table t(checked(nftnl_table_alloc()));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, text(name).c_str());
    return t;
}

Chain chain_named(std::string_view table, std::optional<std::string_view> name) {
    Chain c(checked(nftnl_chain_alloc()));
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, text(table).c_str());
    if (name) nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, text(*name).c_str());
    return c;
}

Object object_named(std::string_view table, std::optional<std::string_view> name, uint32_t type) {
    Object o(checked(nftnl_obj_alloc()));
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, text(table).c_str());
    if (name) nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, text(*name).c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, type);
    return o;
}

std::optional<std::string> comment_of(const void* udata, uint32_t len) {
    if (!udata) return std::nullopt;
    return udata_comment({static_cast<const uint8_t*>(udata), len});
}

}  // namespace

uint32_t Netlink::generation() {
    std::optional<uint32_t> id;
    int err = query(NFT_MSG_GETGEN, 0, AF_UNSPEC, [](nlmsghdr*) {}, [&](nlmsghdr* reply) {
        std::unique_ptr<nftnl_gen, Deleter<nftnl_gen, nftnl_gen_free>> gen(checked(nftnl_gen_alloc()));
        if (nftnl_gen_nlmsg_parse(reply, gen.get()) == 0 && nftnl_gen_is_set(gen.get(), NFTNL_GEN_ID))
            id = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
    });
    if (err) throw_errno("reading the nftables ruleset generation", err);
    if (!id) fail("reading the nftables ruleset generation", "malformed reply");
    return *id;
}

std::optional<uint64_t> Netlink::netns_cookie() const {
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0 || len != sizeof cookie)
        return std::nullopt;
    return cookie;
}

std::optional<TableInfo> Netlink::get_table(uint8_t family, std::string_view table) {
    Table request = table_named(table);
    std::optional<TableInfo> found;
    int err = query(
        NFT_MSG_GETTABLE, 0, family, [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, request.get()); },
        [&](nlmsghdr* reply) {
            Table t(checked(nftnl_table_alloc()));
            if (nftnl_table_nlmsg_parse(reply, t.get()) != 0) return;
            uint32_t len = 0;
            const void* udata = nftnl_table_get_data(t.get(), NFTNL_TABLE_USERDATA, &len);
            found.emplace(TableInfo{comment_of(udata, len)});
        });
    if (err == ENOENT) return std::nullopt;
    if (err) throw_errno("looking up nftables table " + family_name(family) + " " + std::string(table), err);
    if (!found) fail("looking up nftables table " + std::string(table), "malformed reply");
    return found;
}

bool Netlink::has_chain(uint8_t family, std::string_view table, std::string_view chain) {
    Chain request = chain_named(table, chain);
    int err = query(
        NFT_MSG_GETCHAIN, 0, family, [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, request.get()); },
        [](nlmsghdr*) {});
    if (err == ENOENT) return false;
    if (err) throw_errno("looking up nftables chain " + std::string(table) + " " + std::string(chain), err);
    return true;
}

std::optional<uint32_t> Netlink::object_use(uint8_t family, std::string_view table, std::string_view name,
                                            uint32_t type) {
    Object request = object_named(table, name, type);
    std::optional<uint32_t> use;
    int err = query(
        NFT_MSG_GETOBJ, 0, family, [&](nlmsghdr* nlh) { nftnl_obj_nlmsg_build_payload(nlh, request.get()); },
        [&](nlmsghdr* reply) {
            Object o(checked(nftnl_obj_alloc()));
            if (nftnl_obj_nlmsg_parse(reply, o.get()) == 0 && nftnl_obj_is_set(o.get(), NFTNL_OBJ_USE))
                use = nftnl_obj_get_u32(o.get(), NFTNL_OBJ_USE);
        });
    if (err == ENOENT) return std::nullopt;
    if (err) throw_errno("looking up nftables object " + std::string(name), err);
    if (!use) fail("looking up nftables object " + std::string(name), "malformed reply");
    return use;
}

std::vector<std::string> Netlink::object_names(uint8_t family, std::string_view table, uint32_t type) {
    Object request = object_named(table, std::nullopt, type);
    std::vector<std::string> names;
    int err = query(
        NFT_MSG_GETOBJ, NLM_F_DUMP, family,
        [&](nlmsghdr* nlh) { nftnl_obj_nlmsg_build_payload(nlh, request.get()); },
        [&](nlmsghdr* reply) {
            Object o(checked(nftnl_obj_alloc()));
            if (nftnl_obj_nlmsg_parse(reply, o.get()) != 0 || !nftnl_obj_is_set(o.get(), NFTNL_OBJ_NAME) ||
                !nftnl_obj_is_set(o.get(), NFTNL_OBJ_TABLE))
                return;
            if (nftnl_obj_get_str(o.get(), NFTNL_OBJ_TABLE) == table)
                names.emplace_back(nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME));
        });
    if (err && err != ENOENT) throw_errno("listing the objects of nftables table " + std::string(table), err);
    return names;
}

std::vector<BaseChain> Netlink::base_chains() {
    std::vector<BaseChain> chains;
    int err = query(NFT_MSG_GETCHAIN, NLM_F_DUMP, AF_UNSPEC, [](nlmsghdr*) {}, [&](nlmsghdr* reply) {
        // The dump holds every chain of every table (thousands on a kube-proxy host) and few have a hook:
        // a glance at the attributes' types skips the rest before libnftnl copies out each one's strings,
        // which would double the walk's time.
        bool hooked = false;
        const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(reply));
        for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(reply, sizeof(nfgenmsg)));
             !hooked && mnl_attr_ok(attr, int(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr))
            hooked = mnl_attr_get_type(attr) == NFTA_CHAIN_HOOK;
        if (!hooked) return;
        Chain c(checked(nftnl_chain_alloc()));
        if (nftnl_chain_nlmsg_parse(reply, c.get()) != 0 || !nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM) ||
            !nftnl_chain_is_set(c.get(), NFTNL_CHAIN_TABLE) || !nftnl_chain_is_set(c.get(), NFTNL_CHAIN_NAME))
            return;  // a regular chain: no hook, no policy
        BaseChain chain;
        chain.family = uint8_t(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY));
        chain.table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
        chain.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
        chain.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY)) chain.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
        chains.push_back(std::move(chain));
    });
    if (err && err != ENOENT) throw_errno("listing nftables chains", err);
    return chains;
}

std::vector<std::string> Netlink::rule_comments(uint8_t family, std::string_view table, std::string_view chain) {
    Rule request = make_rule(family, table, chain, {});
    std::vector<std::string> comments;
    int err = query(
        NFT_MSG_GETRULE, NLM_F_DUMP, family,
        [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, request.get()); },
        [&](nlmsghdr* reply) {
            Rule r(checked(nftnl_rule_alloc()));
            std::optional<std::string> comment;
            // A rule libnftnl cannot read (an expression newer than it) is not one of nsrun's: no comment.
            if (nftnl_rule_nlmsg_parse(reply, r.get()) == 0) {
                uint32_t len = 0;
                const void* udata = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &len);
                comment = comment_of(udata, len);
            }
            comments.push_back(comment.value_or(""));
        });
    if (err && err != ENOENT)
        throw_errno("listing the rules of " + family_name(family) + " " + std::string(table) + " " + std::string(chain),
                    err);
    return comments;
}

void Netlink::insert_rules(std::span<const Rule> rules) {
    if (rules.empty()) return;
    std::string doing = "inserting rules into";
    std::string last;
    for (const Rule& rule : rules) {
        std::string chain = rule_chain(rule.get());
        if (chain != last) doing += (last.empty() ? " " : ", ") + chain;
        last = std::move(chain);
    }
    uint32_t first = take_seqs(uint32_t(rules.size() + 2));
    commit(encode_insert_batch(rules, first), first, rules.size(), doing);
}

int Netlink::acknowledged(std::vector<uint8_t> request) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(request.data());
    const uint32_t seq = ++seq_;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    return exchange(request, seq, false, nullptr, [](void*, nlmsghdr*) {});
}

uint32_t Netlink::take_seqs(uint32_t count) {
    uint32_t first = seq_ + 1;
    seq_ += count;
    return first;
}

uint64_t Netlink::sent() noexcept { return g_sent.load(std::memory_order_relaxed); }

void Netlink::commit(std::span<const uint8_t> batch, uint32_t first, size_t acked, const std::string& doing) {
    g_sent.fetch_add(1, std::memory_order_relaxed);
    if (::send(fd_.get(), batch.data(), batch.size(), 0) != ssize_t(batch.size()))
        throw_errno(doing + ": sending the batch");
    // The kernel runs a batch synchronously inside send(), so every answer is queued by now: one per message
    // with NLM_F_ACK, or one for the batch as a whole if it was refused outright. Never block for more.
    const uint32_t last = first + uint32_t(acked);
    size_t answered = 0;
    int first_error = 0;
    while (answered < acked) {
        ssize_t n = ::recv(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) fail(doing, "the kernel did not answer every message");
        if (n < 0) throw_errno(doing, errno);
        if (size_t(n) > buf_.size()) fail(doing, "answer larger than 64 KiB");
        int left = int(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data()); NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
            if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first || nlh->nlmsg_seq > last) continue;
            int err = nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))
                          ? EPROTO
                          : -static_cast<nlmsgerr*>(NLMSG_DATA(nlh))->error;
            if (nlh->nlmsg_seq == first) throw_errno(doing, err ? err : EPROTO);  // the batch itself was refused
            ++answered;
            if (err && !first_error) first_error = err;
        }
    }
    if (first_error) throw_errno(doing, first_error);
}

}  // namespace nsrun::net::nft
