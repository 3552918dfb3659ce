#include "netsetup/nft_netlink.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace nsrun::net::nft {

namespace {

constexpr size_t kRecvBufferSize = 64 * 1024;  // the kernel builds dump messages of at most 32 KiB

constexpr uint16_t nft_type(int msg) { return uint16_t((NFNL_SUBSYS_NFTABLES << 8) | msg); }

// Strings from the kernel are NUL-terminated by contract; bound them by the attribute anyway.
std::string attr_string(nlattr* attr) {
    const char* data = static_cast<const char*>(nla_data(attr));
    return std::string(data, strnlen(data, size_t(nla_len(attr))));
}

uint32_t attr_be32(nlattr* attr) { return ntohl(nla_get_u32(attr)); }

std::span<const uint8_t> attr_bytes(nlattr* attr) {
    return {static_cast<const uint8_t*>(nla_data(attr)), size_t(nla_len(attr))};
}

template <size_t N>
bool parse_reply(nlmsghdr* reply, nlattr* (&tb)[N], nla_policy (&policy)[N]) {
    return nlmsg_parse(reply, int(sizeof(nfgenmsg)), tb, int(N - 1), policy) == 0;
}

uint8_t reply_family(nlmsghdr* reply) { return static_cast<nfgenmsg*>(NLMSG_DATA(reply))->nfgen_family; }

std::vector<uint8_t> expression(std::string_view name, const AttrWriter& data) {
    AttrWriter w;
    size_t elem = w.begin_nest(NFTA_LIST_ELEM);
    w.put_str(NFTA_EXPR_NAME, name);
    size_t body = w.begin_nest(NFTA_EXPR_DATA);
    w.put_raw(data.bytes());
    w.end_nest(body);
    w.end_nest(elem);
    return std::move(w.bytes());
}

void put_data_value(AttrWriter& w, uint16_t type, std::span<const uint8_t> value) {
    size_t nest = w.begin_nest(type);
    w.put(NFTA_DATA_VALUE, value.data(), value.size());
    w.end_nest(nest);
}

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

void AttrWriter::put(uint16_t type, const void* data, size_t len) {
    nlattr header{uint16_t(NLA_HDRLEN + len), type};
    size_t at = buf_.size();
    buf_.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
    std::memcpy(buf_.data() + at, &header, sizeof header);
    if (len) std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
}

void AttrWriter::put_str(uint16_t type, std::string_view value) {
    std::string terminated(value);
    put(type, terminated.c_str(), terminated.size() + 1);
}

void AttrWriter::put_be32(uint16_t type, uint32_t value) {
    uint32_t be = htonl(value);
    put(type, &be, sizeof be);
}

void AttrWriter::put_raw(std::span<const uint8_t> attrs) { buf_.insert(buf_.end(), attrs.begin(), attrs.end()); }

size_t AttrWriter::begin_nest(uint16_t type) {
    size_t at = buf_.size();
    put(uint16_t(type | NLA_F_NESTED), nullptr, 0);
    return at;
}

void AttrWriter::end_nest(size_t offset) {
    uint16_t len = uint16_t(buf_.size() - offset);
    std::memcpy(buf_.data() + offset + offsetof(nlattr, nla_len), &len, sizeof len);
}

void append_message(std::vector<uint8_t>& out, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq,
                    uint16_t res_id, std::span<const uint8_t> attrs) {
    size_t at = NLMSG_ALIGN(out.size());
    size_t len = NLMSG_LENGTH(sizeof(nfgenmsg) + attrs.size());
    out.resize(at + NLMSG_ALIGN(len), 0);
    nlmsghdr header{uint32_t(len), type, uint16_t(NLM_F_REQUEST | flags), seq, 0};
    nfgenmsg gen{family, NFNETLINK_V0, htons(res_id)};
    std::memcpy(out.data() + at, &header, sizeof header);
    std::memcpy(out.data() + at + NLMSG_HDRLEN, &gen, sizeof gen);
    if (!attrs.empty()) std::memcpy(out.data() + at + NLMSG_LENGTH(sizeof gen), attrs.data(), attrs.size());
}

std::optional<std::string> udata_comment(std::span<const uint8_t> udata) {
    // Records are {u8 type, u8 len, value[len]}; the comment is type 0 (NFTNL_UDATA_{TABLE,CHAIN,RULE}_COMMENT).
    while (udata.size() >= 2) {
        uint8_t type = udata[0];
        size_t len = udata[1];
        if (udata.size() < 2 + len) break;
        if (type == 0) {
            const char* text = reinterpret_cast<const char*>(udata.data() + 2);
            return std::string(text, strnlen(text, len));
        }
        udata = udata.subspan(2 + len);
    }
    return std::nullopt;
}

std::vector<uint8_t> udata_with_comment(std::string_view comment) {
    // nft caps comments at 128 bytes with the NUL; the kernel's limit for all userdata is 256.
    if (comment.size() > 127) fail("encoding nftables comment", "longer than 127 bytes");
    std::vector<uint8_t> udata(2 + comment.size() + 1, 0);
    udata[1] = uint8_t(comment.size() + 1);
    std::memcpy(udata.data() + 2, comment.data(), comment.size());
    return udata;
}

namespace expr {

std::vector<uint8_t> meta_load(uint32_t key) {
    AttrWriter d;
    d.put_be32(NFTA_META_KEY, key);
    d.put_be32(NFTA_META_DREG, NFT_REG_1);
    return expression("meta", d);
}

std::vector<uint8_t> cmp(uint32_t op, std::span<const uint8_t> value) {
    AttrWriter d;
    d.put_be32(NFTA_CMP_SREG, NFT_REG_1);
    d.put_be32(NFTA_CMP_OP, op);
    put_data_value(d, NFTA_CMP_DATA, value);
    return expression("cmp", d);
}

std::vector<uint8_t> ct_load(uint32_t key) {
    AttrWriter d;
    d.put_be32(NFTA_CT_KEY, key);
    d.put_be32(NFTA_CT_DREG, NFT_REG_1);
    return expression("ct", d);
}

std::vector<uint8_t> bitwise_and(uint32_t mask) {
    uint8_t mask_bytes[4];
    std::memcpy(mask_bytes, &mask, 4);
    const uint8_t zero[4] = {};
    AttrWriter d;
    d.put_be32(NFTA_BITWISE_SREG, NFT_REG_1);
    d.put_be32(NFTA_BITWISE_DREG, NFT_REG_1);
    d.put_be32(NFTA_BITWISE_LEN, 4);
    put_data_value(d, NFTA_BITWISE_MASK, mask_bytes);
    put_data_value(d, NFTA_BITWISE_XOR, zero);
    return expression("bitwise", d);
}

std::vector<uint8_t> xt_match(std::string_view name, uint32_t revision, std::span<const uint8_t> info) {
    AttrWriter d;
    d.put_str(NFTA_MATCH_NAME, name);
    d.put_be32(NFTA_MATCH_REV, revision);
    d.put(NFTA_MATCH_INFO, info.data(), info.size());
    return expression("match", d);
}

namespace {
std::vector<uint8_t> verdict(uint32_t code) {
    AttrWriter d;
    d.put_be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    size_t data = d.begin_nest(NFTA_IMMEDIATE_DATA);
    size_t verdict = d.begin_nest(NFTA_DATA_VERDICT);
    d.put_be32(NFTA_VERDICT_CODE, code);
    d.end_nest(verdict);
    d.end_nest(data);
    return expression("immediate", d);
}
}  // namespace

std::vector<uint8_t> accept() { return verdict(NF_ACCEPT); }

std::vector<uint8_t> drop() { return verdict(NF_DROP); }

std::vector<uint8_t> payload_load(uint32_t base, uint32_t offset, uint32_t len) {
    AttrWriter d;
    d.put_be32(NFTA_PAYLOAD_DREG, NFT_REG_1);
    d.put_be32(NFTA_PAYLOAD_BASE, base);
    d.put_be32(NFTA_PAYLOAD_OFFSET, offset);
    d.put_be32(NFTA_PAYLOAD_LEN, len);
    return expression("payload", d);
}

std::vector<uint8_t> fib_daddr_type() {
    AttrWriter d;
    d.put_be32(NFTA_FIB_DREG, NFT_REG_1);
    d.put_be32(NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    d.put_be32(NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
    return expression("fib", d);
}

std::vector<uint8_t> immediate(uint32_t reg, std::span<const uint8_t> value) {
    AttrWriter d;
    d.put_be32(NFTA_IMMEDIATE_DREG, reg);
    put_data_value(d, NFTA_IMMEDIATE_DATA, value);
    return expression("immediate", d);
}

std::vector<uint8_t> dnat_ipv4(uint32_t address_reg, uint32_t port_reg) {
    AttrWriter d;
    d.put_be32(NFTA_NAT_TYPE, NFT_NAT_DNAT);
    d.put_be32(NFTA_NAT_FAMILY, NFPROTO_IPV4);
    d.put_be32(NFTA_NAT_REG_ADDR_MIN, address_reg);
    d.put_be32(NFTA_NAT_REG_PROTO_MIN, port_reg);
    d.put_be32(NFTA_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);  // as nft writes it; the kernel implies it too
    return expression("nat", d);
}

std::vector<uint8_t> masquerade() { return expression("masq", AttrWriter{}); }

}  // namespace expr

std::vector<uint8_t> encode_insert_batch(std::span<const RuleInsert> rules, uint32_t first_seq) {
    std::vector<uint8_t> out;
    uint32_t seq = first_seq;
    append_message(out, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, seq++, NFNL_SUBSYS_NFTABLES, {});
    for (const RuleInsert& rule : rules) {
        AttrWriter a;
        a.put_str(NFTA_RULE_TABLE, rule.table);
        a.put_str(NFTA_RULE_CHAIN, rule.chain);
        size_t list = a.begin_nest(NFTA_RULE_EXPRESSIONS);
        a.put_raw(rule.expressions);
        a.end_nest(list);
        std::vector<uint8_t> udata = udata_with_comment(rule.comment);
        a.put(NFTA_RULE_USERDATA, udata.data(), udata.size());
        // Without NLM_F_APPEND and a position the kernel puts the rule at the head of the chain.
        append_message(out, nft_type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_ACK, rule.family, seq++, 0, a.bytes());
    }
    append_message(out, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, seq++, NFNL_SUBSYS_NFTABLES, {});
    return out;
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

template <class OnReply>
int Netlink::query(uint16_t msg, uint16_t flags, uint8_t family, const AttrWriter& attrs, OnReply&& on_reply) {
    std::vector<uint8_t> request;
    uint32_t seq = ++seq_;
    append_message(request, nft_type(msg), flags, family, seq, 0, attrs.bytes());
    auto trampoline = [](void* ctx, nlmsghdr* reply) { (*static_cast<OnReply*>(ctx))(reply); };
    return exchange(request, seq, (flags & NLM_F_DUMP) != 0, &on_reply, trampoline);
}

uint32_t Netlink::generation() {
    std::optional<uint32_t> id;
    int err = query(NFT_MSG_GETGEN, 0, AF_UNSPEC, AttrWriter{}, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_GEN_MAX + 1];
        nla_policy policy[NFTA_GEN_MAX + 1] = {};
        policy[NFTA_GEN_ID].type = NLA_U32;
        if (parse_reply(reply, tb, policy) && tb[NFTA_GEN_ID]) id = attr_be32(tb[NFTA_GEN_ID]);
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

std::optional<Table> Netlink::get_table(uint8_t family, std::string_view table) {
    AttrWriter a;
    a.put_str(NFTA_TABLE_NAME, table);
    std::optional<Table> found;
    int err = query(NFT_MSG_GETTABLE, 0, family, a, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_TABLE_MAX + 1];
        nla_policy policy[NFTA_TABLE_MAX + 1] = {};
        policy[NFTA_TABLE_USERDATA].type = NLA_UNSPEC;
        if (!parse_reply(reply, tb, policy)) return;
        found.emplace();
        if (tb[NFTA_TABLE_USERDATA]) found->comment = udata_comment(attr_bytes(tb[NFTA_TABLE_USERDATA]));
    });
    if (err == ENOENT) return std::nullopt;
    if (err) throw_errno("looking up nftables table " + family_name(family) + " " + std::string(table), err);
    if (!found) fail("looking up nftables table " + std::string(table), "malformed reply");
    return found;
}

bool Netlink::has_chain(uint8_t family, std::string_view table, std::string_view chain) {
    AttrWriter a;
    a.put_str(NFTA_CHAIN_TABLE, table);
    a.put_str(NFTA_CHAIN_NAME, chain);
    int err = query(NFT_MSG_GETCHAIN, 0, family, a, [](nlmsghdr*) {});
    if (err == ENOENT) return false;
    if (err) throw_errno("looking up nftables chain " + std::string(table) + " " + std::string(chain), err);
    return true;
}

std::optional<uint32_t> Netlink::object_use(uint8_t family, std::string_view table, std::string_view name,
                                            uint32_t type) {
    AttrWriter a;
    a.put_str(NFTA_OBJ_TABLE, table);
    a.put_str(NFTA_OBJ_NAME, name);
    a.put_be32(NFTA_OBJ_TYPE, type);
    std::optional<uint32_t> use;
    int err = query(NFT_MSG_GETOBJ, 0, family, a, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_OBJ_MAX + 1];
        nla_policy policy[NFTA_OBJ_MAX + 1] = {};
        policy[NFTA_OBJ_USE].type = NLA_U32;
        if (parse_reply(reply, tb, policy) && tb[NFTA_OBJ_USE]) use = attr_be32(tb[NFTA_OBJ_USE]);
    });
    if (err == ENOENT) return std::nullopt;
    if (err) throw_errno("looking up nftables object " + std::string(name), err);
    if (!use) fail("looking up nftables object " + std::string(name), "malformed reply");
    return use;
}

std::vector<std::string> Netlink::object_names(uint8_t family, std::string_view table, uint32_t type) {
    AttrWriter a;
    a.put_str(NFTA_OBJ_TABLE, table);
    a.put_be32(NFTA_OBJ_TYPE, type);
    std::vector<std::string> names;
    int err = query(NFT_MSG_GETOBJ, NLM_F_DUMP, family, a, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_OBJ_MAX + 1];
        nla_policy policy[NFTA_OBJ_MAX + 1] = {};
        policy[NFTA_OBJ_NAME].type = NLA_STRING;
        policy[NFTA_OBJ_TABLE].type = NLA_STRING;
        if (!parse_reply(reply, tb, policy) || !tb[NFTA_OBJ_NAME] || !tb[NFTA_OBJ_TABLE]) return;
        if (attr_string(tb[NFTA_OBJ_TABLE]) == table) names.push_back(attr_string(tb[NFTA_OBJ_NAME]));
    });
    if (err && err != ENOENT) throw_errno("listing the objects of nftables table " + std::string(table), err);
    return names;
}

std::vector<BaseChain> Netlink::base_chains() {
    std::vector<BaseChain> chains;
    int err = query(NFT_MSG_GETCHAIN, NLM_F_DUMP, AF_UNSPEC, AttrWriter{}, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_CHAIN_MAX + 1];
        nla_policy policy[NFTA_CHAIN_MAX + 1] = {};
        policy[NFTA_CHAIN_TABLE].type = NLA_STRING;
        policy[NFTA_CHAIN_NAME].type = NLA_STRING;
        policy[NFTA_CHAIN_HOOK].type = NLA_NESTED;
        policy[NFTA_CHAIN_POLICY].type = NLA_U32;
        if (!parse_reply(reply, tb, policy) || !tb[NFTA_CHAIN_HOOK] || !tb[NFTA_CHAIN_TABLE] || !tb[NFTA_CHAIN_NAME])
            return;  // a regular chain: no hook, no policy
        nlattr* hook[NFTA_HOOK_MAX + 1];
        nla_policy hook_policy[NFTA_HOOK_MAX + 1] = {};
        hook_policy[NFTA_HOOK_HOOKNUM].type = NLA_U32;
        if (nla_parse_nested(hook, NFTA_HOOK_MAX, tb[NFTA_CHAIN_HOOK], hook_policy) != 0 || !hook[NFTA_HOOK_HOOKNUM])
            return;
        BaseChain chain;
        chain.family = reply_family(reply);
        chain.table = attr_string(tb[NFTA_CHAIN_TABLE]);
        chain.name = attr_string(tb[NFTA_CHAIN_NAME]);
        chain.hook = attr_be32(hook[NFTA_HOOK_HOOKNUM]);
        if (tb[NFTA_CHAIN_POLICY]) chain.policy = attr_be32(tb[NFTA_CHAIN_POLICY]);
        chains.push_back(std::move(chain));
    });
    if (err && err != ENOENT) throw_errno("listing nftables chains", err);
    return chains;
}

std::vector<std::string> Netlink::rule_comments(uint8_t family, std::string_view table, std::string_view chain) {
    AttrWriter a;
    a.put_str(NFTA_RULE_TABLE, table);
    a.put_str(NFTA_RULE_CHAIN, chain);
    std::vector<std::string> comments;
    int err = query(NFT_MSG_GETRULE, NLM_F_DUMP, family, a, [&](nlmsghdr* reply) {
        nlattr* tb[NFTA_RULE_MAX + 1];
        nla_policy policy[NFTA_RULE_MAX + 1] = {};
        policy[NFTA_RULE_USERDATA].type = NLA_UNSPEC;
        if (!parse_reply(reply, tb, policy)) return;
        std::optional<std::string> comment;
        if (tb[NFTA_RULE_USERDATA]) comment = udata_comment(attr_bytes(tb[NFTA_RULE_USERDATA]));
        comments.push_back(comment.value_or(""));
    });
    if (err && err != ENOENT)
        throw_errno("listing the rules of " + family_name(family) + " " + std::string(table) + " " + std::string(chain),
                    err);
    return comments;
}

void Netlink::insert_rules(std::span<const RuleInsert> rules) {
    if (rules.empty()) return;
    std::string doing = "inserting rules into";
    for (size_t i = 0; i < rules.size(); ++i) {
        const RuleInsert& r = rules[i];
        if (i > 0 && r.family == rules[i - 1].family && r.table == rules[i - 1].table && r.chain == rules[i - 1].chain)
            continue;
        doing += (i ? ", " : " ") + family_name(r.family) + " " + r.table + " " + r.chain;
    }
    uint32_t first = take_seqs(uint32_t(rules.size() + 2));
    commit(encode_insert_batch(rules, first), first, rules.size(), doing);
}

int Netlink::acknowledged(uint16_t type, uint8_t family, const AttrWriter& attrs) {
    std::vector<uint8_t> request;
    uint32_t seq = ++seq_;
    append_message(request, type, NLM_F_ACK, family, seq, 0, attrs.bytes());
    return exchange(request, seq, false, nullptr, [](void*, nlmsghdr*) {});
}

uint32_t Netlink::take_seqs(uint32_t count) {
    uint32_t first = seq_ + 1;
    seq_ += count;
    return first;
}

void Netlink::commit(std::span<const uint8_t> batch, uint32_t first, size_t acked, const std::string& doing) {
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
