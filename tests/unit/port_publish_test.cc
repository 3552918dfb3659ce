// The pure parts of -p/--publish: which rules one sandbox's table holds, and the one netlink transaction that
// creates it (owner flag, exclusive create, every message acknowledged).
#include "netsetup/nft/port_publish.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "netsetup/nft/nft_netlink.h"
#include "nft_batch.h"

namespace {

using namespace nsrun::net;
using nsrun::Ipv4;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Not;

NatLease Lease() {
    NatLease lease;
    lease.host_link = "nsr5";
    lease.gateway = *Ipv4::parse("203.0.113.1");
    lease.address = *Ipv4::parse("203.0.113.5");
    lease.mtu = 1500;
    return lease;
}

std::vector<std::string> Texts(const PublishChain& chain) {
    std::vector<std::string> texts;
    for (const auto& r : chain.rules) texts.push_back(r.text);
    return texts;
}

std::vector<std::string> ChainNames(const PublishTable& table) {
    std::vector<std::string> names;
    for (const auto& c : table.chains) names.push_back(c.name);
    return names;
}

const PublishChain& Chain(const PublishTable& table, const std::string& name) {
    for (const auto& c : table.chains)
        if (c.name == name) return c;
    throw std::runtime_error("no chain " + name);
}

TEST(PortPublish, TableIsNamedForTheVeth) { EXPECT_EQ(publish_table_name("nsr5"), "nsrun_nsr5"); }

TEST(PortPublish, EveryAddressMeansTheHostsLocalAddressesAndLoopback) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80")};
    PublishTable t = publish_table(Lease(), m, 42);
    EXPECT_EQ(t.name, "nsrun_nsr5");
    EXPECT_THAT(t.comment, HasSubstr("nsrun pid 42"));
    EXPECT_LE(t.comment.size(), 127u);
    EXPECT_TRUE(t.route_localnet);
    EXPECT_THAT(ChainNames(t), ElementsAre("prerouting", "output", "localnet_guard", "postrouting"));
    const char* dnat = "fib daddr type local tcp dport 8080 dnat to 203.0.113.5:80";
    EXPECT_THAT(Texts(Chain(t, "prerouting")), ElementsAre(dnat));
    EXPECT_THAT(Texts(Chain(t, "output")), ElementsAre(dnat));
    EXPECT_THAT(Texts(Chain(t, "postrouting")),
                ElementsAre("oifname \"nsr5\" ct status dnat ip saddr 203.0.113.5 masquerade",
                            "oifname \"nsr5\" ct status dnat ip saddr 127.0.0.0/8 masquerade"));
    EXPECT_THAT(Texts(Chain(t, "localnet_guard")),
                ElementsAre("iifname \"nsr5\" ip saddr 127.0.0.0/8 drop", "iifname \"nsr5\" ip daddr 127.0.0.0/8 drop"));
}

TEST(PortPublish, HooksAndPriorities) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80")};
    PublishTable t = publish_table(Lease(), m, 1);
    // DNAT where the kernel's own NAT runs, and the guard before conntrack (raw) so nothing it drops is tracked.
    EXPECT_EQ(Chain(t, "prerouting").hook, unsigned(NF_INET_PRE_ROUTING));
    EXPECT_EQ(Chain(t, "prerouting").priority, -100);
    EXPECT_EQ(Chain(t, "output").hook, unsigned(NF_INET_LOCAL_OUT));
    EXPECT_EQ(Chain(t, "output").priority, -100);
    EXPECT_EQ(Chain(t, "postrouting").hook, unsigned(NF_INET_POST_ROUTING));
    EXPECT_EQ(Chain(t, "postrouting").priority, 100);
    EXPECT_EQ(Chain(t, "localnet_guard").type, "filter");
    EXPECT_EQ(Chain(t, "localnet_guard").hook, unsigned(NF_INET_PRE_ROUTING));
    EXPECT_LT(Chain(t, "localnet_guard").priority, -200);  // before conntrack (-200)
}

TEST(PortPublish, HostIpRestrictsToThatAddressAndNeedsNoLoopbackRouting) {
    std::vector<PortMapping> m{parse_port_mapping("198.51.100.2:5353:53/udp"), parse_port_mapping("198.51.100.2:8443:443")};
    PublishTable t = publish_table(Lease(), m, 1);
    EXPECT_FALSE(t.route_localnet);
    EXPECT_THAT(ChainNames(t), ElementsAre("prerouting", "output", "postrouting"));
    EXPECT_THAT(Texts(Chain(t, "prerouting")),
                ElementsAre("ip daddr 198.51.100.2 udp dport 5353 dnat to 203.0.113.5:53",
                            "ip daddr 198.51.100.2 tcp dport 8443 dnat to 203.0.113.5:443"));
    EXPECT_THAT(Texts(Chain(t, "postrouting")),
                ElementsAre("oifname \"nsr5\" ct status dnat ip saddr 203.0.113.5 masquerade"));
    EXPECT_THAT(publish_table_text(t), Not(HasSubstr("127.0.0.0/8")));
}

TEST(PortPublish, LoopbackHostIpTurnsOnTheGuard) {
    std::vector<PortMapping> m{parse_port_mapping("127.0.0.1:8080:80")};
    PublishTable t = publish_table(Lease(), m, 1);
    EXPECT_TRUE(t.route_localnet);
    EXPECT_THAT(Texts(Chain(t, "output")), ElementsAre("ip daddr 127.0.0.1 tcp dport 8080 dnat to 203.0.113.5:80"));
    EXPECT_THAT(ChainNames(t), ElementsAre("prerouting", "output", "localnet_guard", "postrouting"));
}

TEST(PortPublish, ZeroHostIpIsEveryAddress) {
    std::vector<PortMapping> m{parse_port_mapping("0.0.0.0:8080:80")};
    PublishTable t = publish_table(Lease(), m, 1);
    EXPECT_TRUE(t.route_localnet);
    EXPECT_THAT(Texts(Chain(t, "prerouting")), ElementsAre("fib daddr type local tcp dport 8080 dnat to 203.0.113.5:80"));
}

TEST(PortPublish, TextIsAnOwnedTable) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80")};
    std::string text = publish_table_text(publish_table(Lease(), m, 7));
    EXPECT_THAT(text, HasSubstr("table ip nsrun_nsr5 {"));
    EXPECT_THAT(text, HasSubstr("flags owner"));
    EXPECT_THAT(text, HasSubstr("type nat hook prerouting priority -100; policy accept;"));
}

NatLease DualStackLease() {
    NatLease lease = Lease();
    lease.address6 = *nsrun::Ipv6::parse("2001:db8:6e73::5");
    return lease;
}

TEST(PortPublish, Ipv6TableForwardsThePortsOnEveryAddressToTheSandboxsIpv6Address) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80"), parse_port_mapping("198.51.100.2:8443:443"),
                               parse_port_mapping("5353:53/udp")};
    auto t = publish_table6(DualStackLease(), m, 42);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->family, NFPROTO_IPV6);
    EXPECT_EQ(t->name, "nsrun_nsr5");
    EXPECT_THAT(t->comment, HasSubstr("2001:db8:6e73::5"));
    EXPECT_LE(t->comment.size(), 127u);
    EXPECT_FALSE(t->route_localnet) << "IPv6 has no route_localnet";
    EXPECT_THAT(ChainNames(*t), ElementsAre("prerouting", "output", "postrouting"));
    // A HOSTIP is an IPv4 address: that mapping stays IPv4 only. ::1 is never routed off loopback: left out.
    const std::vector<std::string> dnats{
        "fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat to [2001:db8:6e73::5]:80",
        "fib daddr type local ip6 daddr != ::1 udp dport 5353 dnat to [2001:db8:6e73::5]:53"};
    EXPECT_EQ(Texts(Chain(*t, "prerouting")), dnats);
    EXPECT_EQ(Texts(Chain(*t, "output")), dnats);
    EXPECT_THAT(Texts(Chain(*t, "postrouting")),
                ElementsAre("oifname \"nsr5\" ct status dnat ip6 saddr 2001:db8:6e73::5 masquerade"));
    EXPECT_THAT(publish_table_text(*t), HasSubstr("table ip6 nsrun_nsr5 {"));
}

TEST(PortPublish, NoIpv6TableForAnIpv4OnlySandboxOrOnlyHostIpMappings) {
    std::vector<PortMapping> every{parse_port_mapping("8080:80")};
    EXPECT_FALSE(publish_table6(Lease(), every, 1));
    std::vector<PortMapping> host_ip{parse_port_mapping("127.0.0.1:8080:80")};
    EXPECT_FALSE(publish_table6(DualStackLease(), host_ip, 1));
}


// ---- the netlink transaction ----

using nsrun::net::nft::testing::BatchMessage;
using nsrun::net::nft::testing::rule_expressions;

uint16_t Nft(int msg) { return nsrun::net::nft::testing::nft_message(msg); }

// The transaction read back; none of the tables' rules carries a comment.
std::vector<BatchMessage> Decode(std::vector<uint8_t> bytes) {
    std::vector<BatchMessage> out = nsrun::net::nft::testing::decode_batch(std::move(bytes));
    for (const BatchMessage& m : out) {
        if (m.rule) {
            EXPECT_FALSE(nftnl_rule_is_set(m.rule.get(), NFTNL_RULE_USERDATA)) << "the table's rules carry no comment";
        }
    }
    return out;
}

TEST(PortPublish, BatchCreatesAnOwnedTableExclusivelyThenChainsThenRules) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80"), parse_port_mapping("198.51.100.2:5353:53/udp")};
    PublishTable t = publish_table(Lease(), m, 42);
    auto msgs = Decode(encode_publish_batch(std::span(&t, 1), 100));
    ASSERT_EQ(msgs.size(), publish_batch_acks(std::span(&t, 1)) + 2);
    EXPECT_EQ(msgs.front().type, NFNL_MSG_BATCH_BEGIN);
    EXPECT_EQ(msgs.back().type, NFNL_MSG_BATCH_END);
    for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].seq, 100 + i) << i;

    const BatchMessage& table = msgs[1];
    EXPECT_EQ(table.type, Nft(NFT_MSG_NEWTABLE));
    EXPECT_EQ(table.family, NFPROTO_IPV4);
    EXPECT_EQ(table.table, "nsrun_nsr5");
    EXPECT_EQ(table.table_flags, uint32_t(NFT_TABLE_F_OWNER)) << "the kernel must own the table's lifetime";
    EXPECT_EQ(table.comment, t.comment);
    // Never adopt an existing table: the create fails instead.
    EXPECT_EQ(table.flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);

    size_t at = 2;
    for (const PublishChain& chain : t.chains) {
        const BatchMessage& c = msgs[at++];
        EXPECT_EQ(c.type, Nft(NFT_MSG_NEWCHAIN));
        EXPECT_EQ(c.chain, chain.name);
        EXPECT_EQ(c.chain_type, chain.type);
        EXPECT_EQ(c.hook, chain.hook);
        EXPECT_EQ(c.priority, chain.priority);
        EXPECT_EQ(c.family, NFPROTO_IPV4);
        EXPECT_EQ(c.policy, uint32_t(NF_ACCEPT));
        EXPECT_EQ(c.flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
    }
    size_t rules = 0;
    for (; at + 1 < msgs.size(); ++at, ++rules) {
        EXPECT_EQ(msgs[at].type, Nft(NFT_MSG_NEWRULE));
        EXPECT_TRUE(msgs[at].flags & NLM_F_APPEND) << "rules keep their order";
    }
    EXPECT_EQ(rules, 2u + 2u + 2u + 2u);  // 2 DNATs in prerouting and output, 2 masquerades, 2 guard drops
    for (size_t i = 1; i + 1 < msgs.size(); ++i) EXPECT_TRUE(msgs[i].flags & NLM_F_ACK) << i;
}

TEST(PortPublish, RulesCarryTheExpressionsTheirTextSays) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80")};
    PublishTable t = publish_table(Lease(), m, 1);
    auto msgs = Decode(encode_publish_batch(std::span(&t, 1), 1));
    std::vector<std::vector<std::string>> prerouting, guard, postrouting;
    for (const BatchMessage& msg : msgs) {
        if (msg.type != Nft(NFT_MSG_NEWRULE)) continue;
        if (msg.chain == "prerouting") prerouting.push_back(msg.expressions);
        if (msg.chain == "localnet_guard") guard.push_back(msg.expressions);
        if (msg.chain == "postrouting") postrouting.push_back(msg.expressions);
    }
    ASSERT_EQ(prerouting.size(), 1u);
    EXPECT_THAT(prerouting[0], ElementsAre("fib", "cmp", "meta", "cmp", "payload", "cmp", "immediate", "immediate", "nat"));
    ASSERT_EQ(guard.size(), 2u);
    EXPECT_THAT(guard[0], ElementsAre("meta", "cmp", "payload", "cmp", "immediate"));
    ASSERT_EQ(postrouting.size(), 2u);
    EXPECT_THAT(postrouting[0], ElementsAre("meta", "cmp", "ct", "bitwise", "cmp", "payload", "cmp", "masq"));
}

TEST(PortPublish, DnatRuleLoadsTheSandboxsAddressAndPortIntoTheNatExpression) {
    std::vector<PortMapping> m{parse_port_mapping("198.51.100.2:8080:80/udp")};
    PublishTable t = publish_table(Lease(), m, 1);
    auto msgs = Decode(encode_publish_batch(std::span(&t, 1), 1));
    const BatchMessage* dnat = nullptr;
    for (const BatchMessage& msg : msgs)
        if (msg.type == Nft(NFT_MSG_NEWRULE) && msg.chain == "prerouting") dnat = &msg;
    ASSERT_TRUE(dnat && dnat->rule);
    EXPECT_EQ(dnat->family, NFPROTO_IPV4);
    auto e = rule_expressions(dnat->rule.get());
    ASSERT_EQ(e.size(), 9u);
    // ip daddr 198.51.100.2
    EXPECT_EQ(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_BASE), uint32_t(NFT_PAYLOAD_NETWORK_HEADER));
    EXPECT_EQ(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_OFFSET), 16u);
    EXPECT_EQ(nftnl_expr_get_u32(e[0], NFTNL_EXPR_PAYLOAD_LEN), 4u);
    uint32_t len = 0;
    const void* value = nftnl_expr_get(e[1], NFTNL_EXPR_CMP_DATA, &len);
    ASSERT_EQ(len, 4u);
    uint32_t address = 0;
    std::memcpy(&address, value, 4);
    EXPECT_EQ(address, Ipv4::parse("198.51.100.2")->network_order());
    // udp dport 8080
    EXPECT_EQ(nftnl_expr_get_u32(e[2], NFTNL_EXPR_META_KEY), uint32_t(NFT_META_L4PROTO));
    EXPECT_EQ(nftnl_expr_get_u8(e[3], NFTNL_EXPR_CMP_DATA), IPPROTO_UDP);
    EXPECT_EQ(nftnl_expr_get_u32(e[4], NFTNL_EXPR_PAYLOAD_BASE), uint32_t(NFT_PAYLOAD_TRANSPORT_HEADER));
    EXPECT_EQ(nftnl_expr_get_u32(e[4], NFTNL_EXPR_PAYLOAD_OFFSET), 2u);
    EXPECT_EQ(ntohs(nftnl_expr_get_u16(e[5], NFTNL_EXPR_CMP_DATA)), 8080);
    // dnat to 203.0.113.5:80
    EXPECT_EQ(nftnl_expr_get_u32(e[6], NFTNL_EXPR_IMM_DREG), uint32_t(NFT_REG_1));
    EXPECT_EQ(nftnl_expr_get_u32(e[6], NFTNL_EXPR_IMM_DATA), Ipv4::parse("203.0.113.5")->network_order());
    EXPECT_EQ(nftnl_expr_get_u32(e[7], NFTNL_EXPR_IMM_DREG), uint32_t(NFT_REG_2));
    EXPECT_EQ(ntohs(nftnl_expr_get_u16(e[7], NFTNL_EXPR_IMM_DATA)), 80);
    EXPECT_EQ(nftnl_expr_get_u32(e[8], NFTNL_EXPR_NAT_TYPE), uint32_t(NFT_NAT_DNAT));
    EXPECT_EQ(nftnl_expr_get_u32(e[8], NFTNL_EXPR_NAT_FAMILY), uint32_t(NFPROTO_IPV4));
    EXPECT_EQ(nftnl_expr_get_u32(e[8], NFTNL_EXPR_NAT_REG_ADDR_MIN), uint32_t(NFT_REG_1));
    EXPECT_EQ(nftnl_expr_get_u32(e[8], NFTNL_EXPR_NAT_REG_PROTO_MIN), uint32_t(NFT_REG_2));
}

TEST(PortPublish, BothTablesGoInOneTransactionAndTheIpv6DnatLoadsSixteenBytes) {
    std::vector<PortMapping> m{parse_port_mapping("8080:80")};
    std::vector<PublishTable> tables;
    tables.push_back(publish_table(DualStackLease(), m, 1));
    tables.push_back(*publish_table6(DualStackLease(), m, 1));
    auto msgs = Decode(encode_publish_batch(tables, 1));
    ASSERT_EQ(msgs.size(), publish_batch_acks(tables) + 2);
    EXPECT_EQ(msgs.front().type, NFNL_MSG_BATCH_BEGIN);
    EXPECT_EQ(msgs.back().type, NFNL_MSG_BATCH_END);
    std::vector<uint8_t> table_families;
    const BatchMessage* dnat6 = nullptr;
    for (const BatchMessage& msg : msgs) {
        if (msg.type == Nft(NFT_MSG_NEWTABLE)) table_families.push_back(msg.family);
        if (msg.type == Nft(NFT_MSG_NEWRULE) && msg.family == NFPROTO_IPV6 && msg.chain == "prerouting") dnat6 = &msg;
    }
    EXPECT_THAT(table_families, ElementsAre(NFPROTO_IPV4, NFPROTO_IPV6));
    ASSERT_TRUE(dnat6 && dnat6->rule);
    auto e = rule_expressions(dnat6->rule.get());
    ASSERT_EQ(e.size(), 11u);  // fib cmp, payload cmp (daddr != ::1), meta cmp payload cmp, immediate x2, nat
    EXPECT_EQ(nftnl_expr_get_u32(e[2], NFTNL_EXPR_PAYLOAD_OFFSET), 24u) << "the IPv6 destination address";
    EXPECT_EQ(nftnl_expr_get_u32(e[2], NFTNL_EXPR_PAYLOAD_LEN), 16u);
    EXPECT_EQ(nftnl_expr_get_u32(e[3], NFTNL_EXPR_CMP_OP), uint32_t(NFT_CMP_NEQ));
    uint32_t len = 0;
    const void* address = nftnl_expr_get(e[8], NFTNL_EXPR_IMM_DATA, &len);
    ASSERT_EQ(len, 16u);
    EXPECT_EQ(std::memcmp(address, nsrun::Ipv6::parse("2001:db8:6e73::5")->bytes.data(), 16), 0);
    EXPECT_EQ(nftnl_expr_get_u32(e[10], NFTNL_EXPR_NAT_FAMILY), uint32_t(NFPROTO_IPV6));
}

// ---- forgetting a UDP port's conntrack entries ----

struct Forget {
    uint8_t protocol = 0;
    uint16_t port = 0;
    std::optional<uint32_t> address;  // network order
    uint32_t orig_flags = 0;
    bool reply_flags_zero = false;
};

Forget DecodeForget(std::vector<uint8_t> bytes, uint8_t family = NFPROTO_IPV4) {
    Forget f;
    auto* nlh = reinterpret_cast<nlmsghdr*>(bytes.data());
    EXPECT_EQ(size_t(nlh->nlmsg_len), bytes.size());
    EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE);
    EXPECT_EQ(static_cast<nfgenmsg*>(NLMSG_DATA(nlh))->nfgen_family, family);
    nlattr* tb[CTA_MAX + 1] = {};
    EXPECT_EQ(nlmsg_parse(nlh, sizeof(nfgenmsg), tb, CTA_MAX, nullptr), 0);
    EXPECT_TRUE(tb[CTA_TUPLE_ORIG] && tb[CTA_FILTER]);
    if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_FILTER]) return f;
    EXPECT_FALSE(tb[CTA_TUPLE_REPLY]);
    nlattr* tuple[CTA_TUPLE_MAX + 1];
    EXPECT_EQ(nla_parse_nested(tuple, CTA_TUPLE_MAX, tb[CTA_TUPLE_ORIG], nullptr), 0);
    if (tuple[CTA_TUPLE_IP]) {
        nlattr* ip[CTA_IP_MAX + 1];
        EXPECT_EQ(nla_parse_nested(ip, CTA_IP_MAX, tuple[CTA_TUPLE_IP], nullptr), 0);
        if (ip[CTA_IP_V4_DST]) f.address = nla_get_u32(ip[CTA_IP_V4_DST]);
    }
    if (tuple[CTA_TUPLE_PROTO]) {
        nlattr* proto[CTA_PROTO_MAX + 1];
        EXPECT_EQ(nla_parse_nested(proto, CTA_PROTO_MAX, tuple[CTA_TUPLE_PROTO], nullptr), 0);
        if (proto[CTA_PROTO_NUM]) f.protocol = nla_get_u8(proto[CTA_PROTO_NUM]);
        if (proto[CTA_PROTO_DST_PORT]) f.port = ntohs(nla_get_u16(proto[CTA_PROTO_DST_PORT]));
    }
    nlattr* filter[CTA_FILTER_MAX + 1];
    EXPECT_EQ(nla_parse_nested(filter, CTA_FILTER_MAX, tb[CTA_FILTER], nullptr), 0);
    if (filter[CTA_FILTER_ORIG_FLAGS]) f.orig_flags = nla_get_u32(filter[CTA_FILTER_ORIG_FLAGS]);
    f.reply_flags_zero = filter[CTA_FILTER_REPLY_FLAGS] && nla_get_u32(filter[CTA_FILTER_REPLY_FLAGS]) == 0;
    return f;
}

// The kernel's CTA_FILTER_F_* values (net/netfilter/nf_internals.h).
constexpr uint32_t kIpDst = 1u << 1, kProtoNum = 1u << 3, kProtoSrcPort = 1u << 4, kProtoDstPort = 1u << 5;

TEST(PortPublish, ForgettingAUdpPortMatchesItsProtocolAndDestinationPortOnly) {
    Forget f = DecodeForget(forget_flows_request(parse_port_mapping("5353:53/udp"), NFPROTO_IPV4));
    EXPECT_EQ(f.protocol, IPPROTO_UDP);
    EXPECT_EQ(f.port, 5353) << "the host's port, which the flows were sent to";
    EXPECT_FALSE(f.address);
    EXPECT_EQ(f.orig_flags, kProtoNum | kProtoDstPort) << "anything wider would forget other flows";
    EXPECT_EQ(f.orig_flags & kProtoSrcPort, 0u);
    EXPECT_TRUE(f.reply_flags_zero);
}

TEST(PortPublish, ForgettingAUdpPortOnOneAddressMatchesThatAddressToo) {
    Forget f = DecodeForget(forget_flows_request(parse_port_mapping("198.51.100.2:5353:53/udp"), NFPROTO_IPV4));
    ASSERT_TRUE(f.address);
    EXPECT_EQ(*f.address, Ipv4::parse("198.51.100.2")->network_order());
    EXPECT_EQ(f.orig_flags, kIpDst | kProtoNum | kProtoDstPort);
}

TEST(PortPublish, ForgettingAUdpPortOnIpv6MatchesIpv6FlowsToThatPort) {
    Forget f = DecodeForget(forget_flows_request(parse_port_mapping("5353:53/udp"), NFPROTO_IPV6), NFPROTO_IPV6);
    EXPECT_EQ(f.protocol, IPPROTO_UDP);
    EXPECT_EQ(f.port, 5353);
    EXPECT_FALSE(f.address);
    EXPECT_EQ(f.orig_flags, kProtoNum | kProtoDstPort);
}

}  // namespace
