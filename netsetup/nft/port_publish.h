// -p/--publish: a sandbox's ports reachable on the host's ports, for exactly as long as the sandbox runs.
//
// Each host port is held by a socket nsrun binds (but never listens on) to HOSTIP:HOSTPORT: the kernel is the
// lock, so a port that another nsrun publishes or a host service uses is refused (EADDRINUSE), and the host
// never hands it out as an ephemeral port meanwhile. The forwarding itself is an nftables table of the
// sandbox's own (table ip nsrun_<veth>, and table ip6 nsrun_<veth> for a dual-stack sandbox), created with the
// owner flag over a netlink socket nsrun keeps open: the kernel deletes the tables when that socket closes, at
// exit or SIGKILL alike. Nothing to clean up later.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/step_log.h"
#include "base/unique_fd.h"
#include "netsetup/netsetup.h"
#include "netsetup/host/network_options.h"
#include "netsetup/nft/nft_netlink.h"

namespace nsrun::net {


class PublishedPorts {
public:
    PublishedPorts();  // publishes nothing
    // Takes every host port before anything changes on the host, so a port that is taken refuses the launch
    // with nothing to undo; with `ipv6`, a port on every address is taken on IPv6 too. Call it after the
    // sandbox's clone(): a child would inherit the sockets. Throws "--publish M: ..." for a taken port or a
    // HOSTIP that is not the host's.
    static PublishedPorts reserve(const std::vector<PortMapping>& mappings, bool ipv6, StepLog& log);
    // Forwards the reserved ports to the sandbox behind `lease`, in one nftables transaction: IPv4, and IPv6
    // for the ports on every address when the sandbox is dual-stack. Nothing without mappings: a launch
    // without -p opens no socket and pays nothing, at start or at exit.
    void install(const NatLease& lease, StepLog& log);

    PublishedPorts(PublishedPorts&&) noexcept;
    PublishedPorts& operator=(PublishedPorts&&) = delete;
    // Closes the table's socket first: the kernel deletes the table before close() returns (after one RCU
    // grace period), and only then are the ports free for the next nsrun.
    ~PublishedPorts();

private:
    std::vector<PortMapping> mappings_;
    std::vector<UniqueFd> held_;           // one bound socket per mapping and family
    std::unique_ptr<nft::Netlink> owner_;  // the socket the table belongs to
    std::thread forget_;                   // forgets the UDP ports' old conntrack entries, off the launch path
};

// ---- The pure pieces, public for the unit tests ----

// One rule, as `nft list` prints it and as libnftnl holds it (the table's family and name, its chain's).
struct PublishRule {
    std::string text;
    nft::Rule rule;
};

struct PublishChain {
    std::string name;
    std::string type;    // "nat" or "filter"
    uint32_t hook = 0;   // NF_INET_PRE_ROUTING, ...
    int32_t priority = 0;
    std::vector<PublishRule> rules;
};

struct PublishTable {
    uint8_t family = 0;  // NFPROTO_IPV4 (table ip) or NFPROTO_IPV6 (table ip6)
    std::string name;
    std::string comment;
    std::vector<PublishChain> chains;
    // Some port is published on loopback (no HOSTIP, or one in 127.0.0.0/8): the host end must route
    // 127.0.0.0/8 (route_localnet), and the table carries the guard that makes that safe.
    bool route_localnet = false;
};

// "nsrun_nsr5": one per host veth, and the kernel gives each veth name to one sandbox at a time.
std::string publish_table_name(std::string_view host_link);
PublishTable publish_table(const NatLease& lease, std::span<const PortMapping> mappings, pid_t owner);
// The IPv6 table: the mappings on every address (a HOSTIP is an IPv4 address) to the sandbox's IPv6 address;
// nullopt for an IPv4-only sandbox or when every mapping has a HOSTIP.
std::optional<PublishTable> publish_table6(const NatLease& lease, std::span<const PortMapping> mappings, pid_t owner);
// The table in nft's syntax, for the tests to read.
std::string publish_table_text(const PublishTable& table);
// One transaction that creates the tables (owner flag, NLM_F_EXCL), their chains and rules; every message
// after the batch begin (first_seq) carries NLM_F_ACK, publish_batch_acks() of them.
std::vector<uint8_t> encode_publish_batch(std::span<const PublishTable> tables, uint32_t first_seq);
size_t publish_batch_acks(std::span<const PublishTable> tables);

// The ctnetlink delete (one netlink message) that forgets the host's conntrack entries of one family
// (NFPROTO_IPV4 or NFPROTO_IPV6) for datagrams to one published UDP port: the kernel's filter matches
// protocol, destination port and (with a HOSTIP, IPv4) address.
std::vector<uint8_t> forget_flows_request(const PortMapping& mapping, uint8_t family);

}  // namespace nsrun::net
