#include "netsetup/host/host_dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>  // before the kernel's headers, which then leave out what glibc defines
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/table.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "base/error.h"
#include "base/unique_fd.h"
#include "netsetup/nft/nat_rules.h"
#include "netsetup/nft/nft_netlink.h"

namespace nsrun::net {
namespace {

constexpr std::string_view kChain = "dns";
constexpr uint16_t kDnsPort = 53;

template <class T>
std::span<const uint8_t> raw(const T& value) {
    return {reinterpret_cast<const uint8_t*>(&value), sizeof value};
}

// Whether the host delivers `address` locally: binding to it succeeds exactly then (without IP_FREEBIND).
bool is_local(int family, const void* address) {
    UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    sockaddr_storage storage{};
    socklen_t length;
    if (family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        std::memcpy(&in->sin_addr, address, 4);
        length = sizeof *in;
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        std::memcpy(&in6->sin6_addr, address, 16);
        length = sizeof *in6;
    }
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) == 0;
}

// meta iif == ifindex, meta nfproto == family, (ip|ip6) daddr == address, meta l4proto == protocol,
// th dport 53, meta mark set meta mark | kHostDnsMark.
nft::Rule mark_rule(const std::string& table, uint32_t ifindex, uint8_t family, std::span<const uint8_t> address,
                    uint8_t protocol) {
    const uint8_t nfproto = family;
    const uint16_t port = htons(kDnsPort);
    const uint32_t destination = family == NFPROTO_IPV4 ? 16 : 24;  // offset in the IPv4 / IPv6 header
    std::vector<nft::Expr> e;
    e.push_back(nft::expr::meta_load(NFT_META_IIF));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, raw(ifindex)));
    e.push_back(nft::expr::meta_load(NFT_META_NFPROTO));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, raw(nfproto)));
    e.push_back(nft::expr::payload_load(NFT_PAYLOAD_NETWORK_HEADER, destination, uint32_t(address.size())));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, address));
    e.push_back(nft::expr::meta_load(NFT_META_L4PROTO));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, raw(protocol)));
    e.push_back(nft::expr::payload_load(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
    e.push_back(nft::expr::cmp(NFT_CMP_EQ, raw(port)));
    e.push_back(nft::expr::meta_load(NFT_META_MARK));
    e.push_back(nft::expr::bitwise_or(kHostDnsMark));
    e.push_back(nft::expr::meta_store(NFT_META_MARK));
    return nft::make_rule(nft::kFamilyInet, table, kChain, std::move(e));
}

}  // namespace

HostResolvers resolvers_on_host(const std::vector<std::string>& servers) {
    HostResolvers found;
    for (const std::string& server : servers) {
        if (auto v4 = Ipv4::parse(server)) {
            uint32_t be = v4->network_order();
            if ((v4->value >> 24) != 127 && is_local(AF_INET, &be) &&
                std::find(found.v4.begin(), found.v4.end(), *v4) == found.v4.end())
                found.v4.push_back(*v4);
        } else if (auto v6 = Ipv6::parse(server)) {
            in6_addr address;
            std::memcpy(&address, v6->bytes.data(), 16);
            if (!IN6_IS_ADDR_LOOPBACK(&address) && !IN6_IS_ADDR_V4MAPPED(&address) && is_local(AF_INET6, &address) &&
                std::find(found.v6.begin(), found.v6.end(), *v6) == found.v6.end())
                found.v6.push_back(*v6);
        }
    }
    return found;
}

std::string host_dns_table_name(const std::string& host_link) { return "nsrun_dns_" + host_link; }

HostDnsBatch encode_host_dns_batch(const std::string& host_link, uint32_t ifindex, const HostResolvers& resolvers,
                                   pid_t owner, uint32_t first_seq) {
    const std::string name = host_dns_table_name(host_link);
    std::vector<nft::Rule> rules;
    std::string addresses;
    for (uint8_t protocol : {uint8_t(IPPROTO_UDP), uint8_t(IPPROTO_TCP)}) {
        for (const Ipv4& address : resolvers.v4) {
            uint32_t be = address.network_order();
            rules.push_back(mark_rule(name, ifindex, NFPROTO_IPV4, raw(be), protocol));
        }
        for (const Ipv6& address : resolvers.v6)
            rules.push_back(mark_rule(name, ifindex, NFPROTO_IPV6, address.bytes, protocol));
    }
    // Appended piece by piece: `literal + std::string` trips GCC 12's false -Wrestrict at -O3 (GCC bug 105329).
    auto add = [&](const std::string& address) {
        if (!addresses.empty()) addresses += ' ';
        addresses += address;
    };
    for (const Ipv4& address : resolvers.v4) add(address.str());
    for (const Ipv6& address : resolvers.v6) add(address.str());

    HostDnsBatch out;
    out.acks = 2 + rules.size();
    nft::Batch batch(out.acks, first_seq);
    constexpr uint16_t kCreate = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;  // never adopt an existing table
    nft::Table table(nftnl_table_alloc());
    nft::Chain chain(nftnl_chain_alloc());
    if (!table || !chain) throw std::bad_alloc();
    nftnl_table_set_u32(table.get(), NFTNL_TABLE_FAMILY, nft::kFamilyInet);
    nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, name.c_str());
    nftnl_table_set_u32(table.get(), NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
    std::string comment = "nsrun pid " + std::to_string(owner) + ": DNS of " + host_link + " to " + addresses;
    if (comment.size() > 127) comment = comment.substr(0, 124) + "...";
    std::vector<uint8_t> udata = nft::udata_with_comment(comment);
    nftnl_table_set_data(table.get(), NFTNL_TABLE_USERDATA, udata.data(), uint32_t(udata.size()));
    batch.add(table.get(), kCreate);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, nft::kFamilyInet);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, name.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, std::string(kChain).c_str());
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, kHostDnsMarkPriority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    batch.add(chain.get(), kCreate);
    for (const nft::Rule& rule : rules) batch.add(rule.get(), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
    out.bytes = batch.finish();
    return out;
}

HostDnsTable::HostDnsTable() = default;
HostDnsTable::HostDnsTable(HostDnsTable&&) noexcept = default;
HostDnsTable& HostDnsTable::operator=(HostDnsTable&&) noexcept = default;
HostDnsTable::~HostDnsTable() = default;

HostDnsTable HostDnsTable::open(const std::string& host_link, uint32_t ifindex, const HostResolvers& resolvers,
                                StepLog& log) {
    HostDnsTable opened;
    if (resolvers.empty()) return opened;
    auto owner = std::make_unique<nft::Netlink>();
    // The begin message and, after the acknowledged ones, the end.
    const uint32_t messages = uint32_t(2 + 2 * (resolvers.v4.size() + resolvers.v6.size()));
    uint32_t first = owner->take_seqs(messages + 2);
    HostDnsBatch batch = encode_host_dns_batch(host_link, ifindex, resolvers, ::getpid(), first);
    owner->commit(batch.bytes, first, batch.acks, "creating nftables table inet " + host_dns_table_name(host_link));
    opened.owner_ = std::move(owner);
    log.step("opened port 53 of the host's resolvers to the sandbox (table inet " + host_dns_table_name(host_link) +
             ")");
    return opened;
}

}  // namespace nsrun::net
