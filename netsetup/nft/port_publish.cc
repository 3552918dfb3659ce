// Layout of one sandbox's table (N = its veth's number, S = its address, G = the gateway):
//
//   table ip nsrun_nsrN {                                  flags owner; comment "nsrun pid P: ..."
//     chain prerouting  { type nat hook prerouting priority dstnat; }     from other machines and sandboxes
//       fib daddr type local tcp dport 8080 dnat to S:80                  (ip daddr HOSTIP with a HOSTIP)
//     chain output      { type nat hook output priority -100; }           from the host itself
//       the same rules
//     chain postrouting { type nat hook postrouting priority srcnat; }
//       oifname "nsrN" ct status dnat ip saddr S masquerade               the sandbox calling its own port
//       oifname "nsrN" ct status dnat ip saddr 127.0.0.0/8 masquerade     only with a loopback port
//     chain localnet_guard { type filter hook prerouting priority raw; }  only with a loopback port
//       iifname "nsrN" ip saddr 127.0.0.0/8 drop
//       iifname "nsrN" ip daddr 127.0.0.0/8 drop
//   }
//
//   table ip6 nsrun_nsrN {                                 only for a dual-stack sandbox (S6: its IPv6 address)
//     chain prerouting, chain output                       for each mapping on every address (no HOSTIP):
//       fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat to [S6]:80
//     chain postrouting
//       oifname "nsrN" ct status dnat ip6 saddr S6 masquerade
//   }
//
// `fib daddr type local` is what Docker's `-m addrtype --dst-type LOCAL` is: every address of the host, and
// nothing merely routed through it. 127.0.0.1:HOSTPORT from the host works as Docker's does without its
// userland proxy: the output chain sends the connection to nsrN with source 127.0.0.1, which the kernel only
// routes off the loopback device where route_localnet is on, and masquerade gives it the gateway's address so
// the sandbox's reply comes back. route_localnet goes on this sandbox's host end only, and only when a port is
// published on loopback; the guard then drops what the kernel would have dropped as martian without it, before
// conntrack sees it: a sandbox sending from or to 127.0.0.0/8 (CVE-2020-8558 was kube-proxy forgetting that).
// Legitimate replies arrive addressed to G and become 127.0.0.1 only in NAT, after the guard. IPv6 has no
// route_localnet: the kernel never routes ::1 off the loopback device, so [::1]:HOSTPORT is left out (it is
// refused at once, by the bound but not listening socket, rather than silently dropped).
//
// The table lives in the host's ruleset as long as nsrun holds the socket that created it; nobody else can
// change it (the kernel refuses other sockets' changes to an owned table). Forwarding is also allowed through
// other programs' drop-policy forward chains, by the shared rule nat_rules.cc keeps there for DNAT'd
// connections to nsr*.

#include "netsetup/nft/port_publish.h"

#include <fcntl.h>
#include <netinet/in.h>  // before the kernel's headers, which then leave out what glibc defines
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/table.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <new>

#include "base/error.h"
#include "base/files.h"
#include "netsetup/nft/nft_netlink.h"

namespace nsrun::net {

namespace {

bool on_every_address(const PortMapping& m) { return !m.host_ip || m.host_ip->value == 0; }

bool on_loopback(const PortMapping& m) { return on_every_address(m) || (m.host_ip->value >> 24) == 127; }

const char* protocol_name(PortMapping::Protocol p) { return p == PortMapping::Protocol::tcp ? "tcp" : "udp"; }

// A piece of a rule: its words as nft prints them and its expressions, built side by side.
struct Piece {
    std::string text;
    std::vector<nft::Expr> expressions;
};

Piece operator+(Piece a, Piece b) {
    a.text += (a.text.empty() || b.text.empty() ? "" : " ") + b.text;
    for (nft::Expr& e : b.expressions) a.expressions.push_back(std::move(e));
    return a;
}

template <class... Exprs>
Piece join(std::string text, Exprs... expressions) {
    Piece p{std::move(text), {}};
    (p.expressions.push_back(std::move(expressions)), ...);
    return p;
}

template <class T>
std::span<const uint8_t> raw(const T& value) {
    return {reinterpret_cast<const uint8_t*>(&value), sizeof value};
}

Piece interface_is(bool input, const std::string& name) {
    char padded[IFNAMSIZ] = {};  // nft compares the whole IFNAMSIZ buffer for an exact name
    std::memcpy(padded, name.data(), std::min(name.size(), sizeof padded - 1));
    return join(std::string(input ? "iifname" : "oifname") + " \"" + name + "\"",
                nft::expr::meta_load(input ? NFT_META_IIFNAME : NFT_META_OIFNAME),
                nft::expr::cmp(NFT_CMP_EQ, raw(padded)));
}

constexpr uint32_t kSourceOffset = 12, kDestinationOffset = 16;  // in the IPv4 header

Piece address_is(bool source, Ipv4 address) {
    uint32_t be = address.network_order();
    return join(std::string(source ? "ip saddr " : "ip daddr ") + address.str(),
                nft::expr::payload_load(NFT_PAYLOAD_NETWORK_HEADER, source ? kSourceOffset : kDestinationOffset, 4),
                nft::expr::cmp(NFT_CMP_EQ, raw(be)));
}

constexpr uint32_t kSource6Offset = 8, kDestination6Offset = 24;  // in the IPv6 header

Piece address6_is(bool source, const Ipv6& address, bool equal = true) {
    return join(std::string(source ? "ip6 saddr " : "ip6 daddr ") + (equal ? "" : "!= ") + address.str(),
                nft::expr::payload_load(NFT_PAYLOAD_NETWORK_HEADER, source ? kSource6Offset : kDestination6Offset, 16),
                nft::expr::cmp(equal ? NFT_CMP_EQ : NFT_CMP_NEQ, raw(address.bytes)));
}

Piece address_is_loopback(bool source) {
    const uint8_t first_byte = 127;
    return join(std::string(source ? "ip saddr" : "ip daddr") + " 127.0.0.0/8",
                nft::expr::payload_load(NFT_PAYLOAD_NETWORK_HEADER, source ? kSourceOffset : kDestinationOffset, 1),
                nft::expr::cmp(NFT_CMP_EQ, raw(first_byte)));
}

Piece destination_is_local() {
    const uint32_t local = RTN_LOCAL;
    return join("fib daddr type local", nft::expr::fib_daddr_type(), nft::expr::cmp(NFT_CMP_EQ, raw(local)));
}

Piece destination_port(PortMapping::Protocol protocol, uint16_t port) {
    const uint8_t l4 = protocol == PortMapping::Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
    const uint16_t be = htons(port);
    return join(std::string(protocol_name(protocol)) + " dport " + std::to_string(port),
                nft::expr::meta_load(NFT_META_L4PROTO), nft::expr::cmp(NFT_CMP_EQ, raw(l4)),
                nft::expr::payload_load(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2), nft::expr::cmp(NFT_CMP_EQ, raw(be)));
}

Piece connection_is_dnat() {
    const uint32_t zero = 0;
    return join("ct status dnat", nft::expr::ct_load(NFT_CT_STATUS), nft::expr::bitwise_and(IPS_DST_NAT),
                nft::expr::cmp(NFT_CMP_NEQ, raw(zero)));
}

Piece dnat_to(Ipv4 address, uint16_t port) {
    const uint32_t be_address = address.network_order();
    const uint16_t be_port = htons(port);
    return join("dnat to " + address.str() + ":" + std::to_string(port),
                nft::expr::immediate(NFT_REG_1, raw(be_address)), nft::expr::immediate(NFT_REG_2, raw(be_port)),
                nft::expr::dnat(NFPROTO_IPV4, NFT_REG_1, NFT_REG_2));
}

Piece dnat_to6(const Ipv6& address, uint16_t port) {
    const uint16_t be_port = htons(port);
    return join("dnat to [" + address.str() + "]:" + std::to_string(port),
                nft::expr::immediate(NFT_REG_1, raw(address.bytes)), nft::expr::immediate(NFT_REG_2, raw(be_port)),
                nft::expr::dnat(NFPROTO_IPV6, NFT_REG_1, NFT_REG_2));
}

Piece verdict(const char* text, nft::Expr expression) { return join(text, std::move(expression)); }

PublishRule rule(const PublishTable& table, const PublishChain& chain, Piece p) {
    return {std::move(p.text), nft::make_rule(table.family, table.name, chain.name, std::move(p.expressions))};
}

std::string hook_name(uint32_t hook) {
    switch (hook) {
        case NF_INET_PRE_ROUTING: return "prerouting";
        case NF_INET_LOCAL_OUT: return "output";
        case NF_INET_POST_ROUTING: return "postrouting";
        default: return "hook " + std::to_string(hook);
    }
}

// Holds HOSTIP:HOSTPORT/proto (or [::]:HOSTPORT/proto, IPv6 only, with `ipv6`): bound, never listening, so the
// kernel refuses anyone else the same binding and nothing ever connects to it (the rules send every
// connection on to the sandbox before it could). An invalid descriptor: the host has no IPv6 at all.
UniqueFd hold_port(const PortMapping& m, bool ipv6) {
    const std::string doing = "--publish " + m.str();
    const bool udp = m.protocol == PortMapping::Protocol::udp;
    UniqueFd fd(::socket(ipv6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!fd && ipv6 && errno == EAFNOSUPPORT) return fd;
    if (!fd) throw_errno(doing + ": opening a socket");
    sockaddr_storage storage{};
    socklen_t length = sizeof(sockaddr_in);
    if (ipv6) {
        // Beside the IPv4 socket, not over it: only IPv6 addresses.
        int on = 1;
        if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
            throw_errno(doing + ": making the IPv6 socket IPv6 only");
        auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
        address->sin6_family = AF_INET6;
        address->sin6_port = htons(m.host_port);
        address->sin6_addr = in6addr_any;
        length = sizeof(sockaddr_in6);
    } else {
        auto* address = reinterpret_cast<sockaddr_in*>(&storage);
        address->sin_family = AF_INET;
        address->sin_port = htons(m.host_port);
        address->sin_addr.s_addr = on_every_address(m) ? htonl(INADDR_ANY) : m.host_ip->network_order();
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        const std::string port = std::to_string(m.host_port) + "/" + protocol_name(m.protocol);
        if (errno == EADDRINUSE)
            fail(doing, "host port " + (on_every_address(m) ? port : m.host_ip->str() + ":" + port) +
                            (ipv6 ? " is already in use on IPv6" : " is already in use") +
                            " (published by another nsrun, or a service of the host's)");
        if (errno == EADDRNOTAVAIL) fail(doing, m.host_ip->str() + " is not an address of this host");
        throw_errno(doing + ": binding the host port");
    }
    if (udp) {
        // A datagram that escapes the rules (a conntrack entry older than them) would queue here unread for
        // the sandbox's whole life: refuse it at the socket instead.
        sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
        sock_fprog program{1, drop_all};
        if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
            throw_errno(doing + ": filtering the host port's socket");
    }
    return fd;
}

// ctnetlink's filter flags (CTA_FILTER_F_* in the kernel's net/netfilter/nf_internals.h: conntrack-tools and
// libnetfilter_conntrack use the same values, but no uapi header carries them).
constexpr uint32_t kFilterIpDestination = 1u << 1;
constexpr uint32_t kFilterProtocol = 1u << 3;
constexpr uint32_t kFilterDestinationPort = 1u << 5;

void turn_on_route_localnet(const std::string& host_link) {
    write_sysctl("/proc/sys/net/ipv4/conf/" + host_link + "/route_localnet", "1");
}

}  // namespace

std::string publish_table_name(std::string_view host_link) { return "nsrun_" + std::string(host_link); }

PublishTable publish_table(const NatLease& lease, std::span<const PortMapping> mappings, pid_t owner) {
    PublishTable table;
    table.family = NFPROTO_IPV4;
    table.name = publish_table_name(lease.host_link);
    table.comment = "nsrun pid " + std::to_string(owner) + ": ports published to " + lease.address.str() + " (" +
                    lease.host_link + "); goes when that nsrun exits";
    PublishChain prerouting{"prerouting", "nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST, {}};
    PublishChain output{"output", "nat", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST, {}};
    for (PublishChain* chain : {&prerouting, &output}) {
        for (const PortMapping& m : mappings) {
            table.route_localnet = table.route_localnet || on_loopback(m);
            Piece where = on_every_address(m) ? destination_is_local() : address_is(false, *m.host_ip);
            chain->rules.push_back(rule(table, *chain,
                                        std::move(where) + destination_port(m.protocol, m.host_port) +
                                            dnat_to(lease.address, m.port)));
        }
    }
    PublishChain postrouting{"postrouting", "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC, {}};
    // Hairpin: the sandbox reaching its own published port would otherwise get its own answers from itself.
    postrouting.rules.push_back(rule(table, postrouting,
                                     interface_is(false, lease.host_link) + connection_is_dnat() +
                                         address_is(true, lease.address) +
                                         verdict("masquerade", nft::expr::masquerade())));
    table.chains.push_back(std::move(prerouting));
    table.chains.push_back(std::move(output));
    if (table.route_localnet) {
        postrouting.rules.push_back(rule(table, postrouting,
                                         interface_is(false, lease.host_link) + connection_is_dnat() +
                                             address_is_loopback(true) +
                                             verdict("masquerade", nft::expr::masquerade())));
        PublishChain guard{"localnet_guard", "filter", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW, {}};
        for (bool source : {true, false})
            guard.rules.push_back(rule(table, guard,
                                       interface_is(true, lease.host_link) + address_is_loopback(source) +
                                           verdict("drop", nft::expr::drop())));
        table.chains.push_back(std::move(guard));
    }
    table.chains.push_back(std::move(postrouting));
    return table;
}

std::optional<PublishTable> publish_table6(const NatLease& lease, std::span<const PortMapping> mappings, pid_t owner) {
    if (!lease.address6 || std::none_of(mappings.begin(), mappings.end(), on_every_address)) return std::nullopt;
    PublishTable table;
    table.family = NFPROTO_IPV6;
    table.name = publish_table_name(lease.host_link);
    table.comment = "nsrun pid " + std::to_string(owner) + ": ports published to " + lease.address6->str() + " (" +
                    lease.host_link + "); goes when that nsrun exits";
    const Ipv6 loopback = *Ipv6::parse("::1");
    PublishChain prerouting{"prerouting", "nat", NF_INET_PRE_ROUTING, NF_IP6_PRI_NAT_DST, {}};
    PublishChain output{"output", "nat", NF_INET_LOCAL_OUT, NF_IP6_PRI_NAT_DST, {}};
    for (PublishChain* chain : {&prerouting, &output})
        for (const PortMapping& m : mappings)
            if (on_every_address(m))
                chain->rules.push_back(rule(table, *chain,
                                            destination_is_local() + address6_is(false, loopback, false) +
                                                destination_port(m.protocol, m.host_port) +
                                                dnat_to6(*lease.address6, m.port)));
    PublishChain postrouting{"postrouting", "nat", NF_INET_POST_ROUTING, NF_IP6_PRI_NAT_SRC, {}};
    postrouting.rules.push_back(rule(table, postrouting,
                                     interface_is(false, lease.host_link) + connection_is_dnat() +
                                         address6_is(true, *lease.address6) +
                                         verdict("masquerade", nft::expr::masquerade())));
    table.chains.push_back(std::move(prerouting));
    table.chains.push_back(std::move(output));
    table.chains.push_back(std::move(postrouting));
    return table;
}

std::string publish_table_text(const PublishTable& table) {
    std::string s = std::string("table ") + (table.family == NFPROTO_IPV6 ? "ip6 " : "ip ") + table.name + " {\n\tcomment \"" + table.comment + "\"\n\tflags owner\n";
    for (const PublishChain& chain : table.chains) {
        s += "\tchain " + chain.name + " {\n\t\ttype " + chain.type + " hook " + hook_name(chain.hook) +
             " priority " + std::to_string(chain.priority) + "; policy accept;\n";
        for (const PublishRule& r : chain.rules) s += "\t\t" + r.text + "\n";
        s += "\t}\n";
    }
    return s + "}\n";
}

size_t publish_batch_acks(std::span<const PublishTable> tables) {
    size_t n = 0;
    for (const PublishTable& table : tables) {
        n += 1 + table.chains.size();
        for (const PublishChain& chain : table.chains) n += chain.rules.size();
    }
    return n;
}

namespace {

void add_table(nft::Batch& batch, const PublishTable& table) {
    constexpr uint16_t kCreate = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;  // never adopt an existing table

    nft::Table t(nftnl_table_alloc());
    if (!t) throw std::bad_alloc();
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, table.family);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.name.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
    std::vector<uint8_t> udata = nft::udata_with_comment(table.comment);
    nftnl_table_set_data(t.get(), NFTNL_TABLE_USERDATA, udata.data(), uint32_t(udata.size()));
    batch.add(t.get(), kCreate);

    for (const PublishChain& chain : table.chains) {
        nft::Chain c(nftnl_chain_alloc());
        if (!c) throw std::bad_alloc();
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, table.family);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.name.c_str());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, chain.hook);
        nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.priority);
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, chain.type.c_str());
        batch.add(c.get(), kCreate);
    }
    for (const PublishChain& chain : table.chains)
        for (const PublishRule& r : chain.rules) batch.add(r.rule.get(), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
}

}  // namespace

std::vector<uint8_t> encode_publish_batch(std::span<const PublishTable> tables, uint32_t first_seq) {
    nft::Batch batch(publish_batch_acks(tables), first_seq);
    for (const PublishTable& table : tables) add_table(batch, table);
    return batch.finish();
}

std::vector<uint8_t> forget_flows_request(const PortMapping& m, uint8_t family) {
    // ctnetlink, not nf_tables: libnftnl has no builder for it, libmnl builds the attributes.
    alignas(nlmsghdr) char buf[512] = {};  // libmnl (1.0.4) does not zero the padding after an attribute
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    gen->nfgen_family = family;
    gen->version = NFNETLINK_V0;
    gen->res_id = 0;
    uint32_t flags = kFilterProtocol | kFilterDestinationPort;
    nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
    if (!on_every_address(m) && family == NFPROTO_IPV4) {
        flags |= kFilterIpDestination;
        nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
        mnl_attr_put_u32(nlh, CTA_IP_V4_DST, m.host_ip->network_order());
        mnl_attr_nest_end(nlh, ip);
    }
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(m.host_port));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
    // A kernel without filtered deletes (older than 2024's) reads the tuple as one whole connection, finds it
    // incomplete and refuses (EINVAL): never a flush of everything.
    nlattr* filter = mnl_attr_nest_start(nlh, CTA_FILTER);
    mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, flags);  // NLA_U32, host order
    mnl_attr_put_u32(nlh, CTA_FILTER_REPLY_FLAGS, 0);
    mnl_attr_nest_end(nlh, filter);
    const auto* bytes = reinterpret_cast<const uint8_t*>(buf);
    return {bytes, bytes + nlh->nlmsg_len};
}

PublishedPorts::PublishedPorts() = default;
PublishedPorts::PublishedPorts(PublishedPorts&&) noexcept = default;

PublishedPorts::~PublishedPorts() {
    if (forget_.joinable()) forget_.join();
    // The table first: while it exists the ports must stay taken, or the next nsrun could publish one of them
    // while this table still sends its connections here.
    owner_.reset();
    held_.clear();
}

PublishedPorts PublishedPorts::reserve(const std::vector<PortMapping>& mappings, bool ipv6, StepLog& log) {
    PublishedPorts ports;
    for (const PortMapping& m : mappings) {
        ports.held_.push_back(hold_port(m, false));
        if (ipv6 && on_every_address(m))
            if (UniqueFd fd = hold_port(m, true)) ports.held_.push_back(std::move(fd));
    }
    ports.mappings_ = mappings;
    if (!mappings.empty()) log.step("took the published host ports");
    return ports;
}

void PublishedPorts::install(const NatLease& lease, StepLog& log) {
    if (mappings_.empty()) return;
    std::vector<PublishTable> tables;
    tables.push_back(publish_table(lease, mappings_, ::getpid()));
    if (auto table6 = publish_table6(lease, mappings_, ::getpid())) tables.push_back(std::move(*table6));
    const PublishTable& table = tables.front();
    const bool ipv6 = tables.size() > 1;
    auto owner = std::make_unique<nft::Netlink>();
    const size_t acks = publish_batch_acks(tables);
    uint32_t first = owner->take_seqs(uint32_t(acks + 2));
    owner->commit(encode_publish_batch(tables, first), first, acks,
                  "creating nftables table" + std::string(ipv6 ? "s ip and ip6 " : " ip ") + table.name);
    owner_ = std::move(owner);
    if (log.enabled()) {
        std::string what;
        for (const PortMapping& m : mappings_) what += (what.empty() ? "" : ", ") + m.str();
        log.step("published " + what + " (table ip " + (ipv6 ? "and ip6 " : "") + table.name + ")");
    }
    if (table.route_localnet) {
        // Only now, with the guard in place.
        turn_on_route_localnet(lease.host_link);
        log.step("turned on route_localnet on " + lease.host_link);
    }
    // A UDP "connection" the host tracked before this table existed (to the port while nobody published it,
    // or to the sandbox that published it last) keeps its old fate as long as its client keeps sending, even
    // after the new rules are in place (a long-standing Docker complaint). Only after the commit can deleting
    // them not race new ones. The kernel walks its whole conntrack hash for that (its cost grows with the number
    // of buckets, not with what this namespace tracks), so a thread does it while the program starts, on the
    // table's socket: a NETLINK_NETFILTER socket's close waits for the commit's RCU grace period, and this one
    // stays open.
    std::vector<std::vector<uint8_t>> requests;
    for (const PortMapping& m : mappings_)
        if (m.protocol == PortMapping::Protocol::udp) {
            requests.push_back(forget_flows_request(m, NFPROTO_IPV4));
            if (ipv6 && on_every_address(m)) requests.push_back(forget_flows_request(m, NFPROTO_IPV6));
        }
    if (requests.empty()) return;
    forget_ = std::thread([socket = owner_.get(), requests = std::move(requests)] {
        try {
            for (auto& request : requests) {
                // Best effort: a kernel without filtered deletes refuses, and its stale entries then last until
                // their clients pause for the UDP timeout (30 s), as before.
                socket->acknowledged(std::move(request));
            }
        } catch (const std::exception&) {
        }
    });
    log.step("forgetting the UDP ports' conntrack entries in the background");
}

}  // namespace nsrun::net
