#include "netsetup/nat/rate_limit.h"

#include <linux/if_ether.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <climits>

#include "base/error.h"
#include "netsetup/namespace_socket.h"
#include "netsetup/netlink.h"

namespace nsrun::net {
namespace {

constexpr uint64_t kBurstPerSecond = 100;  // burst = rate / 100: 10 ms of traffic
constexpr uint64_t kQueuePerSecond = 40;   // queue beyond the burst = rate / 40: 25 ms of traffic

using NlQdisc = std::unique_ptr<rtnl_qdisc, NlDeleter<rtnl_qdisc_put>>;

void add_token_bucket(nl_sock* socket, const std::string& link_name, const TokenBucket& bucket, const std::string& where) {
    const std::string doing = "limiting the rate on " + where;
    NlLink link = read_link(socket, 0, link_name, doing);
    NlQdisc qdisc(rtnl_qdisc_alloc());
    if (!qdisc) fail(doing, "out of memory");
    rtnl_tc* tc = TC_CAST(qdisc.get());
    rtnl_tc_set_link(tc, link.get());  // index, and the MTU libnl sizes the rate table by
    rtnl_tc_set_parent(tc, TC_H_ROOT);
    rtnl_tc_set_handle(tc, TC_HANDLE(1, 0));
    check_nl(rtnl_tc_set_kind(tc, "tbf"), doing);
    rtnl_qdisc_tbf_set_rate(qdisc.get(), int(bucket.rate), int(bucket.burst), 0);
    rtnl_qdisc_tbf_set_limit(qdisc.get(), int(bucket.limit));
    check_nl(rtnl_qdisc_add(socket, qdisc.get(), NLM_F_CREATE | NLM_F_REPLACE), doing);
}

}  // namespace

TokenBucket token_bucket_for(uint64_t rate, unsigned mtu) {
    const uint64_t frame = uint64_t(mtu) + ETH_HLEN;
    const uint64_t burst = std::max(rate / kBurstPerSecond, 2 * frame);
    const uint64_t limit = burst + std::max(rate / kQueuePerSecond, 4 * frame);
    auto clamp = [](uint64_t value) { return uint32_t(std::min<uint64_t>(value, INT_MAX)); };
    return TokenBucket{clamp(rate), clamp(burst), clamp(limit)};
}

void check_rate(uint64_t rate) {
    if (rate > uint64_t(INT_MAX))
        fail("--rate", "at most 17gbit (" + std::to_string(INT_MAX) + " bytes/s): the token bucket takes no more");
}

void limit_rate(const NatLease& lease, int pidfd, uint64_t rate, StepLog& log) {
    check_rate(rate);
    TokenBucket bucket = token_bucket_for(rate, lease.mtu);
    NlSocket host = connect_route_socket();
    add_token_bucket(host.get(), lease.host_link, bucket, lease.host_link);
    NlSocket sandbox = connect_route_socket_in(pidfd);
    add_token_bucket(sandbox.get(), "eth0", bucket, "the sandbox's eth0");
    log.step("limited the rate to " + std::to_string(rate) + " bytes/s each way (burst " +
             std::to_string(bucket.burst) + ", queue " + std::to_string(bucket.limit) + " bytes)");
}

}  // namespace nsrun::net
