// The pure parts of nsrun's NAT rules: names, comments, the nft script, and the netlink encoding of the rules
// nsrun inserts into other programs' chains.
#include "netsetup/nft/nat_rules.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "netsetup/nft/nft_netlink.h"
#include "nft_batch.h"

namespace {

using namespace nsrun::net;
using nsrun::Ipv4Cidr;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::StartsWith;

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }
nsrun::Ipv6Cidr cidr6(const char* text) { return *nsrun::Ipv6Cidr::parse(text); }

TEST(NatRules, PoolCounterNames) {
    EXPECT_EQ(pool_counter_name(cidr("203.0.113.0/24")), "pool_203_0_113_0_24");
    EXPECT_EQ(pool_counter_name(cidr("10.201.0.0/16")), "pool_10_201_0_0_16");
    EXPECT_EQ(pool_counter_name(cidr("0.0.0.0/0")), "pool_0_0_0_0_0");
    EXPECT_EQ(pool_counter_name(cidr("255.255.255.255/32")), "pool_255_255_255_255_32");
}

TEST(NatRules, PoolCounterNamesReadBack) {
    for (const char* text : {"203.0.113.0/24", "10.201.0.0/16", "0.0.0.0/0", "192.0.2.7/32"}) {
        auto pool = pool_from_counter_name(pool_counter_name(cidr(text)));
        ASSERT_TRUE(pool) << text;
        EXPECT_EQ(*pool, cidr(text));
    }
}

TEST(NatRules, ForeignCounterNamesAreNotPools) {
    for (const char* name : {"", "pool_", "pool_1_2_3_4", "pool_10_201_0_1_16", "pool_010_0_0_0_8", "pool_1_2_3_4_33",
                             "pool_1.2.3.4_24", "pool_1_2_3_4_24_", "counter_1_2_3_4_24", "pool_1_2_3_4_24x",
                             "pool_256_0_0_0_8"}) {
        EXPECT_FALSE(pool_from_counter_name(name)) << name;
    }
}

TEST(NatRules, TableCommentSaysWhatItIsAndThatItMayGo) {
    std::string comment = nat_table_comment();
    EXPECT_THAT(comment, StartsWith("nsrun v3: "));
    EXPECT_THAT(comment, HasSubstr("safe to delete when no nsrun runs"));
    EXPECT_LE(comment.size(), 127u);  // nft's limit for comments
    EXPECT_EQ(nat_layout_version(comment), kNatLayoutVersion);
}

TEST(NatRules, LayoutVersionOnlyFromNsrunComments) {
    EXPECT_EQ(nat_layout_version("nsrun v7: later"), 7u);
    EXPECT_EQ(nat_layout_version("nsrun v0: early"), 0u);
    EXPECT_FALSE(nat_layout_version(""));
    EXPECT_FALSE(nat_layout_version("nsrun"));
    EXPECT_FALSE(nat_layout_version("nsrun v: x"));
    EXPECT_FALSE(nat_layout_version("nsrun v1 no colon"));
    EXPECT_FALSE(nat_layout_version("nsrun v01: leading zero"));
    EXPECT_FALSE(nat_layout_version("my table"));
}

TEST(NatRules, NothingToDoIsAnEmptyScript) {
    EXPECT_TRUE(NatTableChange{}.empty());
    EXPECT_EQ(nat_table_script({}), "");
}

TEST(NatRules, Pool6CounterNames) {
    EXPECT_EQ(pool6_counter_name(cidr6("fd6e:7372:756e::/64")), "pool6_fd6e7372756e00000000000000000000_64");
    EXPECT_EQ(pool6_counter_name(cidr6("2001:db8:6e73::/64")), "pool6_20010db86e7300000000000000000000_64");
    EXPECT_EQ(pool6_counter_name(cidr6("::/0")), "pool6_00000000000000000000000000000000_0");
    for (const char* text : {"fd6e:7372:756e::/64", "2001:db8::/32", "::/0", "2001:db8::1/128", "fd00:0:0:ff00::/56"}) {
        auto pool = pool6_from_counter_name(pool6_counter_name(cidr6(text)));
        ASSERT_TRUE(pool) << text;
        EXPECT_EQ(*pool, cidr6(text));
    }
}

TEST(NatRules, ForeignCounterNamesAreNotIpv6Pools) {
    for (const char* name : {"", "pool6_", "pool6_fd6e7372756e00000000000000000000", "pool6_fd6e7372756e00000000000000000000_",
                             "pool6_fd6e7372756e00000000000000000000_129", "pool6_fd6e7372756e00000000000000000001_64",
                             "pool6_FD6E7372756E00000000000000000000_64", "pool6_fd6e7372756e0000000000000000000_64",
                             "pool6_fd6e7372756e00000000000000000000_064", "pool_203_0_113_0_24", "isolation",
                             "pool6_fd6e7372756e0000000000000000000g_64"})
        EXPECT_FALSE(pool6_from_counter_name(name)) << name;
    EXPECT_FALSE(pool_from_counter_name("pool6_fd6e7372756e00000000000000000000_64"));
}

TEST(NatRules, CreateScriptHasIsolationBeforeThePools) {
    NatTableChange change{NatTableChange::Table::create, {cidr("203.0.113.0/24")}, {}, std::nullopt};
    EXPECT_EQ(nat_table_script(change),
              "add table inet nsrun { comment \"" + nat_table_comment() + "\"; }\n"
              "create chain inet nsrun postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
              "add counter inet nsrun isolation\n"
              "add counter inet nsrun connection_limit_4096\n"
              "add set inet nsrun connections { type iface_index; size 65535; flags dynamic; }\n"
              "create chain inet nsrun dns_unmark { type filter hook input priority -20; policy accept; }\n"
              "add rule inet nsrun dns_unmark iifname \"nsr*\" meta mark set meta mark & 0xffffdfff comment "
              "\"nsrun: only nsrun marks DNS to the host\"\n"
              "create chain inet nsrun host_isolation { type filter hook input priority filter; policy accept; }\n"
              "add rule inet nsrun host_isolation iifname != \"nsr*\" accept\n"
              "add rule inet nsrun host_isolation icmp type redirect counter name \"isolation\" drop\n"
              "add rule inet nsrun host_isolation icmpv6 type { nd-router-advert, nd-redirect } counter name "
              "\"isolation\" drop\n"
              "add rule inet nsrun host_isolation icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
              "add rule inet nsrun host_isolation meta nfproto ipv4 fib saddr . iif oif missing counter name "
              "\"isolation\" drop\n"
              "add rule inet nsrun host_isolation ip6 saddr != fe80::/10 fib saddr . iif oif missing counter name "
              "\"isolation\" drop\n"
              "add rule inet nsrun host_isolation ct state established,related accept\n"
              "add rule inet nsrun host_isolation meta l4proto tcp ct state new add @connections { meta iif ct count "
              "over 4096 } counter name \"connection_limit_4096\" reject with tcp reset\n"
              "add rule inet nsrun host_isolation meta l4proto != tcp ct state new add @connections { meta iif ct "
              "count over 4096 } counter name \"connection_limit_4096\" reject with icmpx admin-prohibited\n"
              "add rule inet nsrun host_isolation meta mark & 0x00002000 == 0x00002000 meta mark set meta mark & "
              "0xffffdfff accept\n"
              "add rule inet nsrun host_isolation meta iifgroup 28275 accept\n"
              "add rule inet nsrun host_isolation meta l4proto tcp counter name \"isolation\" reject with tcp reset\n"
              "add rule inet nsrun host_isolation counter name \"isolation\" reject with icmpx admin-prohibited\n"
              "create chain inet nsrun sandbox_isolation { type filter hook forward priority filter; policy accept; }\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" fib saddr . iif oif missing counter name "
              "\"isolation\" drop\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" meta l4proto tcp ct state new add @connections "
              "{ meta iif ct count over 4096 } counter name \"connection_limit_4096\" reject with tcp reset\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" meta l4proto != tcp ct state new add "
              "@connections { meta iif ct count over 4096 } counter name \"connection_limit_4096\" reject with icmpx "
              "admin-prohibited\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" oifname \"nsr*\" ct status dnat accept\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" oifname \"nsr*\" meta l4proto tcp counter name "
              "\"isolation\" reject with tcp reset\n"
              "add rule inet nsrun sandbox_isolation iifname \"nsr*\" oifname \"nsr*\" counter name \"isolation\" "
              "reject with icmpx admin-prohibited\n"
              "add counter inet nsrun pool_203_0_113_0_24\n"
              "delete counter inet nsrun pool_203_0_113_0_24\n"
              "create counter inet nsrun pool_203_0_113_0_24\n"
              "add rule inet nsrun postrouting ip saddr 203.0.113.0/24 oifname != \"nsr*\" counter name "
              "\"pool_203_0_113_0_24\" masquerade\n");
}

TEST(NatRules, ConnectionLimitComesFromTheChangeAndNamesItsCounter) {
    NatTableChange change{NatTableChange::Table::replace, {cidr("203.0.113.0/24")}, {}, std::nullopt, 7};
    std::string script = nat_table_script(change);
    EXPECT_EQ(connection_limit_counter_name(7), "connection_limit_7");
    EXPECT_THAT(script, HasSubstr("add counter inet nsrun connection_limit_7\n"));
    EXPECT_THAT(script, testing::Not(HasSubstr("4096")));
    size_t uses = 0, limits = 0;
    for (size_t at = script.find("counter name \"connection_limit_7\""); at != std::string::npos;
         at = script.find("counter name \"connection_limit_7\"", at + 1))
        ++uses;
    for (size_t at = script.find("ct count over 7 }"); at != std::string::npos; at = script.find("ct count over 7 }", at + 1))
        ++limits;
    EXPECT_EQ(uses, kConnectionLimitRules);
    EXPECT_EQ(limits, kConnectionLimitRules);
    // Over the limit a connection is refused, never dropped into a timeout.
    for (size_t at = script.find("ct count over"); at != std::string::npos; at = script.find("ct count over", at + 1)) {
        std::string rule = script.substr(at, script.find('\n', at) - at);
        EXPECT_THAT(rule, testing::AnyOf(testing::EndsWith("reject with tcp reset"),
                                         testing::EndsWith("reject with icmpx admin-prohibited")));
    }
}

TEST(NatRules, SandboxesAreRefusedAndOnlySpoofedPacketsDropped) {
    NatTableChange change{NatTableChange::Table::create, {cidr("203.0.113.0/24")}, {}, std::nullopt};
    std::string script = nat_table_script(change);
    std::istringstream lines(script);
    std::string line;
    int spoof_checks = 0;
    while (std::getline(lines, line)) {
        bool isolation = line.find("host_isolation ") != std::string::npos ||
                         line.find("sandbox_isolation ") != std::string::npos;
        if (!isolation || !line.ends_with(" drop")) continue;
        // What drops silently: forged sources (an answer would go to whom they name) and the ICMP that steers
        // the host's routes.
        bool spoofed = line.find("fib saddr . iif oif missing") != std::string::npos;
        spoof_checks += spoofed;
        EXPECT_TRUE(spoofed || line.find("icmp") != std::string::npos) << line;
    }
    EXPECT_EQ(spoof_checks, 3) << "on input (IPv4, IPv6) and on forward (both)";
    EXPECT_THAT(script, testing::Not(HasSubstr("th dport 53"))) << "port 53 is no longer open to every sandbox";
}

TEST(NatRules, IsolationCounterCountsEveryIsolationDrop) {
    NatTableChange change{NatTableChange::Table::create, {cidr("203.0.113.0/24")}, {}, std::nullopt};
    std::string script = nat_table_script(change);
    size_t uses = 0;
    for (size_t at = script.find("counter name \"isolation\""); at != std::string::npos;
         at = script.find("counter name \"isolation\"", at + 1))
        ++uses;
    EXPECT_EQ(uses, kIsolationRules);
}

TEST(NatRules, GuardScriptDropsOnlyIpv4ThatIsNotNsrun) {
    NatTableChange change;
    change.forward_guard = ForwardGuard{true, false};
    std::string script = nat_table_script(change);
    EXPECT_THAT(script, StartsWith("add chain inet nsrun forward_guard { type filter hook forward priority filter; "
                                   "policy accept; comment \"nsrun turned on net.ipv4.ip_forward"));
    EXPECT_THAT(script, HasSubstr("\nflush chain inet nsrun forward_guard\n"));
    EXPECT_THAT(script, HasSubstr("add rule inet nsrun forward_guard meta nfproto ipv4 iifname != \"nsr*\" "
                                  "oifname != \"nsr*\" drop comment"));
    EXPECT_THAT(script, testing::Not(HasSubstr("nfproto ipv6")));
    EXPECT_THAT(script, testing::Not(HasSubstr("forward_guard6")));
    EXPECT_THAT(script, testing::Not(HasSubstr("add table")));
}

TEST(NatRules, GuardScriptForIpv6AloneLeavesIpv4Forwarding) {
    NatTableChange change;
    change.forward_guard = ForwardGuard{false, true};
    std::string script = nat_table_script(change);
    EXPECT_THAT(script, StartsWith("add chain inet nsrun forward_guard6 { type filter hook forward priority filter; "
                                   "policy accept; comment \"nsrun turned on net.ipv6.conf.all.forwarding"));
    EXPECT_THAT(script, HasSubstr("\nflush chain inet nsrun forward_guard6\n"));
    EXPECT_THAT(script, HasSubstr("add rule inet nsrun forward_guard6 meta nfproto ipv6 iifname != \"nsr*\" "
                                  "oifname != \"nsr*\" drop comment \"nsrun: forward no IPv6"));
    EXPECT_THAT(script, testing::Not(HasSubstr("nfproto ipv4")));
    EXPECT_THAT(script, testing::Not(HasSubstr("forward_guard ")));
    change.forward_guard = ForwardGuard{true, true};
    script = nat_table_script(change);
    EXPECT_THAT(script, HasSubstr("nfproto ipv4"));
    EXPECT_THAT(script, HasSubstr("nfproto ipv6"));
}

TEST(NatRules, Ipv6PoolGetsItsOwnMasquerade) {
    NatTableChange change;
    change.pools6 = {cidr6("2001:db8:6e73::/64")};
    std::string script = nat_table_script(change);
    EXPECT_THAT(script, testing::Not(HasSubstr("chain")));
    EXPECT_THAT(script, HasSubstr("create counter inet nsrun pool6_20010db86e7300000000000000000000_64\n"));
    EXPECT_THAT(script, HasSubstr("add rule inet nsrun postrouting ip6 saddr 2001:db8:6e73::/64 oifname != \"nsr*\" "
                                  "counter name \"pool6_20010db86e7300000000000000000000_64\" masquerade\n"));
}

TEST(NatRules, NewPoolInAnExistingTableTouchesNoHookedChain) {
    // (Re)adding a chain with a hook makes the commit wait for RCU grace periods; adding a pool must not.
    NatTableChange change;
    change.pools = {cidr("10.201.0.0/16"), cidr("198.51.100.0/24")};
    std::string script = nat_table_script(change);
    EXPECT_THAT(script, testing::Not(HasSubstr("chain")));
    EXPECT_THAT(script, HasSubstr("ip saddr 10.201.0.0/16 oifname != \"nsr*\" counter name \"pool_10_201_0_0_16\""));
    EXPECT_THAT(script, HasSubstr("ip saddr 198.51.100.0/24 oifname != \"nsr*\" counter name "
                                  "\"pool_198_51_100_0_24\""));
}

TEST(NatRules, ReplaceScriptSwapsTheTableInOneTransaction) {
    NatTableChange change{NatTableChange::Table::replace, {cidr("203.0.113.0/24")}, {}, ForwardGuard{true, false}};
    std::string script = nat_table_script(change);
    EXPECT_THAT(script, StartsWith("add table inet nsrun\ndelete table inet nsrun\nadd table inet nsrun { comment"));
    EXPECT_THAT(script, HasSubstr("masquerade"));
    EXPECT_THAT(script, HasSubstr("forward_guard"));
}

TEST(NatRules, IptablesChainsAreIptablesNftsOwnNames) {
    EXPECT_TRUE(is_iptables_chain(nft::kFamilyIp, "filter", "FORWARD"));
    EXPECT_TRUE(is_iptables_chain(nft::kFamilyIp, "mangle", "FORWARD"));
    EXPECT_TRUE(is_iptables_chain(NFPROTO_IPV6, "filter", "FORWARD"));  // ip6tables-nft
    EXPECT_FALSE(is_iptables_chain(NFPROTO_IPV6, "v6", "FORWARD"));
    EXPECT_FALSE(is_iptables_chain(nft::kFamilyInet, "filter", "FORWARD"));
    EXPECT_FALSE(is_iptables_chain(nft::kFamilyIp, "filter", "forward"));
    EXPECT_FALSE(is_iptables_chain(nft::kFamilyIp, "fw", "FORWARD"));
}

TEST(NftNetlink, UdataCommentRoundTrip) {
    auto udata = nft::udata_with_comment("nsrun: hello");
    EXPECT_EQ(udata.size(), 2u + 13u);
    EXPECT_EQ(nft::udata_comment(udata), "nsrun: hello");
}

TEST(NftNetlink, UdataCommentAfterOtherRecordsAndTruncation) {
    std::vector<uint8_t> udata = {7, 2, 'x', 'y', 0, 4, 'a', 'b', 'c', 0};
    EXPECT_EQ(nft::udata_comment(udata), "abc");
    EXPECT_FALSE(nft::udata_comment(std::vector<uint8_t>{0, 9, 'a', 'b'}));  // claims more than there is
    EXPECT_FALSE(nft::udata_comment(std::vector<uint8_t>{7, 1, 'x'}));
    EXPECT_FALSE(nft::udata_comment(std::vector<uint8_t>{}));
    EXPECT_THROW(nft::udata_with_comment(std::string(128, 'x')), nsrun::Error);
}

using nsrun::net::nft::testing::decode_batch;
using nsrun::net::nft::testing::rule_expressions;

std::vector<nft::Expr> iifname_prefix_accept() {
    const uint8_t prefix[] = {'n', 's', 'r'};
    std::vector<nft::Expr> e;
    e.push_back(nft::expr::meta_load(NFT_META_IIFNAME));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, prefix));
    e.push_back(nft::expr::accept());
    return e;
}

TEST(NftNetlink, InsertBatchIsOneTransactionOfHeadInserts) {
    std::vector<nft::Rule> rules;
    rules.push_back(nft::make_rule(nft::kFamilyIp, "filter", "FORWARD", iifname_prefix_accept(), "first"));
    rules.push_back(nft::make_rule(nft::kFamilyInet, "filter", "forward", iifname_prefix_accept(), "second"));
    EXPECT_EQ(nft::rule_chain(rules[0].get()), "ip filter FORWARD");
    auto batch = decode_batch(nft::encode_insert_batch(rules, 100));
    ASSERT_EQ(batch.size(), 4u);
    EXPECT_EQ(batch[0].type, NFNL_MSG_BATCH_BEGIN);
    EXPECT_EQ(batch[3].type, NFNL_MSG_BATCH_END);
    for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(batch[i].seq, 100 + i);
    for (size_t i : {1, 2}) {
        EXPECT_EQ(batch[i].type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE);
        EXPECT_TRUE(batch[i].flags & NLM_F_ACK);  // each rule answers, so errors can be told apart
        EXPECT_FALSE(batch[i].flags & NLM_F_APPEND);  // at the head of the chain
        ASSERT_TRUE(batch[i].rule);
        EXPECT_THAT(batch[i].expressions, ElementsAre("meta", "cmp", "immediate"));
    }
    EXPECT_EQ(batch[1].family, nft::kFamilyIp);
    EXPECT_EQ(batch[1].table, "filter");
    EXPECT_EQ(batch[1].chain, "FORWARD");
    EXPECT_EQ(batch[1].comment, "first");
    EXPECT_EQ(batch[2].family, nft::kFamilyInet);
    EXPECT_EQ(batch[2].chain, "forward");
    EXPECT_EQ(batch[2].comment, "second");
}

TEST(NftNetlink, AcceptIsAVerdictAndTheCmpCarriesTheInterfacePrefixWithoutItsNul) {
    std::vector<nft::Rule> rules;
    rules.push_back(nft::make_rule(nft::kFamilyIp, "filter", "FORWARD", iifname_prefix_accept(), "x"));
    auto batch = decode_batch(nft::encode_insert_batch(rules, 1));
    ASSERT_EQ(batch.size(), 3u);
    ASSERT_TRUE(batch[1].rule);
    auto e = rule_expressions(batch[1].rule.get());
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(nftnl_expr_get_u32(e[0], NFTNL_EXPR_META_KEY), uint32_t(NFT_META_IIFNAME));
    EXPECT_EQ(nftnl_expr_get_u32(e[0], NFTNL_EXPR_META_DREG), uint32_t(NFT_REG_1));
    // "nsr*" in nft and "nsr+" in iptables are both a 3-byte compare: a prefix match.
    EXPECT_EQ(nftnl_expr_get_u32(e[1], NFTNL_EXPR_CMP_OP), uint32_t(NFT_CMP_EQ));
    EXPECT_EQ(nftnl_expr_get_u32(e[1], NFTNL_EXPR_CMP_SREG), uint32_t(NFT_REG_1));
    uint32_t len = 0;
    const void* data = nftnl_expr_get(e[1], NFTNL_EXPR_CMP_DATA, &len);
    ASSERT_EQ(len, 3u);
    EXPECT_EQ(std::memcmp(data, "nsr", 3), 0);
    EXPECT_EQ(nftnl_expr_get_u32(e[2], NFTNL_EXPR_IMM_DREG), uint32_t(NFT_REG_VERDICT));
    EXPECT_EQ(nftnl_expr_get_u32(e[2], NFTNL_EXPR_IMM_VERDICT), uint32_t(NF_ACCEPT));
}

TEST(NftNetlink, XtMatchCarriesItsNameRevisionAndInfo) {
    const uint8_t info[] = {1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<nft::Expr> e;
    e.push_back(nft::expr::xt_match("conntrack", 3, info));
    std::vector<nft::Rule> rules;
    rules.push_back(nft::make_rule(NFPROTO_IPV6, "filter", "FORWARD", std::move(e), "x"));
    auto batch = decode_batch(nft::encode_insert_batch(rules, 1));
    ASSERT_TRUE(batch.at(1).rule);
    EXPECT_EQ(batch[1].family, NFPROTO_IPV6);
    auto parsed = rule_expressions(batch[1].rule.get());
    ASSERT_EQ(parsed.size(), 1u);
    EXPECT_STREQ(nftnl_expr_get_str(parsed[0], NFTNL_EXPR_NAME), "match");
    EXPECT_STREQ(nftnl_expr_get_str(parsed[0], NFTNL_EXPR_MT_NAME), "conntrack");
    EXPECT_EQ(nftnl_expr_get_u32(parsed[0], NFTNL_EXPR_MT_REV), 3u);
    uint32_t len = 0;
    const void* data = nftnl_expr_get(parsed[0], NFTNL_EXPR_MT_INFO, &len);
    ASSERT_EQ(len, sizeof info);
    EXPECT_EQ(std::memcmp(data, info, sizeof info), 0);
}

TEST(NftNetlink, BitwiseAndKeepsTheMaskInHostOrderWithAZeroXor) {
    std::vector<nft::Expr> e;
    e.push_back(nft::expr::ct_load(NFT_CT_STATUS));
    e.push_back(nft::expr::bitwise_and(0x20));
    std::vector<nft::Rule> rules;
    rules.push_back(nft::make_rule(nft::kFamilyInet, "t", "c", std::move(e)));
    auto batch = decode_batch(nft::encode_insert_batch(rules, 1));
    ASSERT_TRUE(batch.at(1).rule);
    EXPECT_EQ(batch[1].comment, "") << "no comment, no userdata";
    auto parsed = rule_expressions(batch[1].rule.get());
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(nftnl_expr_get_u32(parsed[0], NFTNL_EXPR_CT_KEY), uint32_t(NFT_CT_STATUS));
    EXPECT_EQ(nftnl_expr_get_u32(parsed[1], NFTNL_EXPR_BITWISE_LEN), 4u);
    uint32_t len = 0;
    const void* mask = nftnl_expr_get(parsed[1], NFTNL_EXPR_BITWISE_MASK, &len);
    ASSERT_EQ(len, 4u);
    uint32_t value = 0;
    std::memcpy(&value, mask, 4);
    EXPECT_EQ(value, 0x20u);
    const void* xor_value = nftnl_expr_get(parsed[1], NFTNL_EXPR_BITWISE_XOR, &len);
    ASSERT_EQ(len, 4u);
    std::memcpy(&value, xor_value, 4);
    EXPECT_EQ(value, 0u);
}

}  // namespace
