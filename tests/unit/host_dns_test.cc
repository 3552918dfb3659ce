// The table that opens port 53 of the host to a sandbox whose resolver is the host: what the batch says,
// read back with libnftnl's parsers.
#include "netsetup/host/host_dns.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "netsetup/nft/nat_rules.h"
#include "nft_batch.h"

namespace {

using namespace nsrun::net;
using nft::testing::BatchMessage;
using nft::testing::decode_batch;
using nft::testing::nft_message;
using nft::testing::rule_expressions;
using testing::ElementsAre;

HostResolvers resolvers() {
    HostResolvers r;
    r.v4 = {*nsrun::Ipv4::parse("198.51.100.2")};
    r.v6 = {*nsrun::Ipv6::parse("2001:db8:1::2")};
    return r;
}

// The compared values of a rule's cmp expressions, in order, as bytes.
std::vector<std::vector<uint8_t>> compared(const nftnl_rule* rule) {
    std::vector<std::vector<uint8_t>> out;
    for (const nftnl_expr* e : rule_expressions(rule)) {
        if (std::string(nftnl_expr_get_str(e, NFTNL_EXPR_NAME)) != "cmp") continue;
        uint32_t len = 0;
        const auto* data = static_cast<const uint8_t*>(nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len));
        out.emplace_back(data, data + len);
    }
    return out;
}

template <class T>
std::vector<uint8_t> bytes(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    return {p, p + sizeof value};
}

TEST(HostDns, OneOwnedTableThatOnlyMarksTheSandboxsDnsToItsResolvers) {
    HostDnsBatch batch = encode_host_dns_batch("nsr7", 42, resolvers(), 1234, 100);
    std::vector<BatchMessage> m = decode_batch(batch.bytes);
    ASSERT_EQ(m.size(), 2 + batch.acks);
    EXPECT_EQ(batch.acks, 2u + 4u);  // table, chain, and UDP and TCP for each resolver
    EXPECT_EQ(m.front().seq, 100u);
    const BatchMessage& table = m[1];
    EXPECT_EQ(table.type, nft_message(NFT_MSG_NEWTABLE));
    EXPECT_EQ(table.family, NFPROTO_INET);
    EXPECT_EQ(table.table, "nsrun_dns_nsr7");
    EXPECT_EQ(table.table_flags, uint32_t(NFT_TABLE_F_OWNER)) << "the kernel deletes it with nsrun's socket";
    EXPECT_TRUE(table.flags & NLM_F_EXCL) << "never adopts a table of the same name";
    EXPECT_EQ(table.comment, "nsrun pid 1234: DNS of nsr7 to 198.51.100.2 2001:db8:1::2");
    const BatchMessage& chain = m[2];
    EXPECT_EQ(chain.type, nft_message(NFT_MSG_NEWCHAIN));
    EXPECT_EQ(chain.hook, uint32_t(NF_INET_LOCAL_IN));
    EXPECT_EQ(chain.priority, kHostDnsMarkPriority);
    EXPECT_LT(chain.priority, 0) << "before host_isolation (priority filter), which lets the mark in";
    EXPECT_EQ(chain.policy, uint32_t(NF_ACCEPT)) << "it never drops or accepts anything itself";
    const uint32_t ifindex = 42;
    const uint16_t port = htons(53);
    const uint32_t v4 = htonl(0xc6336402);  // 198.51.100.2
    const auto address6 = resolvers().v6[0].bytes;
    std::vector<uint8_t> v6(address6.begin(), address6.end());
    std::vector<std::vector<std::vector<uint8_t>>> rules;
    for (size_t i = 3; i + 1 < m.size(); ++i) {
        ASSERT_EQ(m[i].type, nft_message(NFT_MSG_NEWRULE));
        EXPECT_EQ(m[i].chain, "dns");
        // It ends by OR-ing kHostDnsMark into the packet mark, and has no verdict.
        EXPECT_THAT(std::vector<std::string>(m[i].expressions.end() - 3, m[i].expressions.end()),
                    ElementsAre("meta", "bitwise", "meta"));
        EXPECT_EQ(std::count(m[i].expressions.begin(), m[i].expressions.end(), "immediate"), 0);
        rules.push_back(compared(m[i].rule.get()));
    }
    const uint8_t udp = IPPROTO_UDP, tcp = IPPROTO_TCP, ip = NFPROTO_IPV4, ip6 = NFPROTO_IPV6;
    EXPECT_THAT(rules, ElementsAre(ElementsAre(bytes(ifindex), bytes(ip), bytes(v4), bytes(udp), bytes(port)),
                                   ElementsAre(bytes(ifindex), bytes(ip6), v6, bytes(udp), bytes(port)),
                                   ElementsAre(bytes(ifindex), bytes(ip), bytes(v4), bytes(tcp), bytes(port)),
                                   ElementsAre(bytes(ifindex), bytes(ip6), v6, bytes(tcp), bytes(port))));
    EXPECT_EQ(m.back().type, NFNL_MSG_BATCH_END);
}

TEST(HostDns, LoopbackAndForeignServersAreNotTheHosts) {
    // Inside the sandbox 127.0.0.1 is its own loopback; 192.0.2.1 is nobody's address here.
    HostResolvers found = resolvers_on_host({"127.0.0.1", "::1", "192.0.2.1", "2001:db8::1", "not an address"});
    EXPECT_TRUE(found.empty());
}

}  // namespace
