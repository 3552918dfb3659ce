// An nf_tables batch nsrun built, read back with libnftnl's parsers (the ones nft and iptables-nft read the
// kernel's answers with), for the unit tests of what nsrun sends.
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netsetup/nft/nft_netlink.h"

namespace nsrun::net::nft::testing {

struct BatchMessage {
    uint16_t type = 0;
    uint16_t flags = 0;
    uint32_t seq = 0;
    uint8_t family = 0;
    std::string table;  // a table's name, or a rule's table
    std::string chain;  // a chain's name, or a rule's chain
    std::string comment;  // a table's or a rule's
    uint32_t table_flags = 0;
    uint32_t hook = 0;
    int32_t priority = 0;
    std::optional<uint32_t> policy;
    std::string chain_type;
    std::vector<std::string> expressions;  // a rule's, by name
    Rule rule;                             // for NFT_MSG_NEWRULE
};

inline uint16_t nft_message(int msg) { return uint16_t((NFNL_SUBSYS_NFTABLES << 8) | msg); }

inline std::vector<const nftnl_expr*> rule_expressions(const nftnl_rule* rule) {
    std::vector<const nftnl_expr*> out;
    nftnl_expr_iter* it = nftnl_expr_iter_create(rule);
    for (nftnl_expr* e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) out.push_back(e);
    nftnl_expr_iter_destroy(it);
    return out;
}

// What udata_with_comment() wrote into a table's or rule's user data, "" without any.
template <typename Object, typename Get>
std::string comment_of(Object* object, Get get, uint16_t attribute) {
    uint32_t len = 0;
    const void* udata = get(object, attribute, &len);
    return udata ? udata_comment({static_cast<const uint8_t*>(udata), len}).value_or("") : "";
}

inline std::vector<BatchMessage> decode_batch(std::vector<uint8_t> bytes) {
    std::vector<BatchMessage> out;
    int left = int(bytes.size());
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(bytes.data()); NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
        BatchMessage m;
        m.type = nlh->nlmsg_type;
        m.flags = nlh->nlmsg_flags;
        m.seq = nlh->nlmsg_seq;
        m.family = static_cast<nfgenmsg*>(NLMSG_DATA(nlh))->nfgen_family;
        if (m.type == nft_message(NFT_MSG_NEWTABLE)) {
            Table t(nftnl_table_alloc());
            EXPECT_EQ(nftnl_table_nlmsg_parse(nlh, t.get()), 0);
            if (auto* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)) m.table = name;
            m.table_flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
            m.comment = comment_of(t.get(), nftnl_table_get_data, NFTNL_TABLE_USERDATA);
        } else if (m.type == nft_message(NFT_MSG_NEWCHAIN)) {
            Chain c(nftnl_chain_alloc());
            EXPECT_EQ(nftnl_chain_nlmsg_parse(nlh, c.get()), 0);
            if (auto* name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME)) m.chain = name;
            if (auto* type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE)) m.chain_type = type;
            m.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
            m.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
            if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY)) m.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
        } else if (m.type == nft_message(NFT_MSG_NEWRULE)) {
            m.rule.reset(nftnl_rule_alloc());
            EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, m.rule.get()), 0);
            if (auto* table = nftnl_rule_get_str(m.rule.get(), NFTNL_RULE_TABLE)) m.table = table;
            if (auto* chain = nftnl_rule_get_str(m.rule.get(), NFTNL_RULE_CHAIN)) m.chain = chain;
            m.comment = comment_of(m.rule.get(), nftnl_rule_get_data, NFTNL_RULE_USERDATA);
            for (const nftnl_expr* e : rule_expressions(m.rule.get()))
                m.expressions.emplace_back(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
        }
        out.push_back(std::move(m));
    }
    EXPECT_EQ(left, 0);
    return out;
}

}  // namespace nsrun::net::nft::testing
