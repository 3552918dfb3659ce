// Port 53 of the host, for a sandbox whose resolv.conf names the host itself (a dnsmasq on its uplink
// address, --dns=<one of the host's addresses>), and for no other sandbox, and to no other address.
//
// The shared table inet nsrun refuses every new connection from a sandbox to the host; its input chain lets
// in packets carrying the mark kHostDnsMark, which it clears on everything from a sandbox first. Such a
// sandbox gets a table of its own, table inet nsrun_dns_nsrN, created with the owner flag on a netlink socket
// this object holds (as -p's tables are): one chain at input priority kHostDnsMarkPriority that marks exactly
// its packets (by the host veth's index, which the next sandbox on the same name never has) to those
// addresses' TCP and UDP port 53. Crash-safe and failing closed: the kernel deletes the table when nsrun dies,
// and the shared chain refuses again. Deleting an owned table makes the kernel wait for RCU at exit, which is
// why only sandboxes with a resolver on the host have one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/ipv6_address.h"
#include "base/step_log.h"

namespace nsrun::net {

namespace nft {
class Netlink;
}

// The name servers of `servers` (resolv.conf's, as text) that are addresses of the host itself, as the host
// sees them: addresses it delivers locally. Loopback servers are left out: inside the sandbox they are the
// sandbox's own loopback.
struct HostResolvers {
    std::vector<Ipv4> v4;
    std::vector<Ipv6> v6;
    bool empty() const { return v4.empty() && v6.empty(); }
};
HostResolvers resolvers_on_host(const std::vector<std::string>& servers);

class HostDnsTable {
public:
    HostDnsTable();  // no table
    // Creates the table for the host veth `host_link` (index `ifindex`); nothing when `resolvers` is empty.
    static HostDnsTable open(const std::string& host_link, uint32_t ifindex, const HostResolvers& resolvers,
                             StepLog& log);
    HostDnsTable(HostDnsTable&&) noexcept;
    HostDnsTable& operator=(HostDnsTable&&) noexcept;
    ~HostDnsTable();

private:
    std::unique_ptr<nft::Netlink> owner_;
};

// ---- The pure pieces, public for the unit tests ----

// "nsrun_dns_nsr5"
std::string host_dns_table_name(const std::string& host_link);
// The transaction that creates the table (owner flag, NLM_F_EXCL), its chain and one rule per resolver and
// protocol; every message after the batch begin (first_seq) carries NLM_F_ACK, `acks` of them.
struct HostDnsBatch {
    std::vector<uint8_t> bytes;
    size_t acks = 0;
};
HostDnsBatch encode_host_dns_batch(const std::string& host_link, uint32_t ifindex, const HostResolvers& resolvers,
                                   pid_t owner, uint32_t first_seq);

}  // namespace nsrun::net
