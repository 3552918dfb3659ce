// --rate: a NAT'd sandbox's bandwidth limited in both directions by a token bucket filter (tbf), one on each
// end of its veth pair: the host end's egress is what the sandbox downloads, the sandbox's eth0's egress is
// what it uploads. Both qdiscs die with the veth pair (SIGKILL included), so there is nothing to clean up.
// The limit applies to whole frames on the veth (Ethernet, IP and TCP headers included, as tc counts), so TCP
// payload gets about 95% of it with a 1500-byte MTU.
#pragma once

#include <cstdint>

#include "base/step_log.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {

struct TokenBucket {
    uint32_t rate = 0;   // bytes per second
    uint32_t burst = 0;  // bucket size in bytes: what may pass at once at line speed after a pause
    uint32_t limit = 0;  // bytes queued (bucket included) before the qdisc drops
};

// Burst: 10 ms worth of the rate, so that a late timer (the qdisc's watchdog) costs no throughput; but at least
// two full frames, or a full-size frame could never pass. Queue: another 25 ms worth (at least four full
// frames) on top of the burst: enough for TCP to keep the bucket busy (a shorter queue drops too often and the
// measured rate falls below the limit), short enough not to add much latency.
TokenBucket token_bucket_for(uint64_t rate, unsigned mtu);

// Throws for a rate the kernel interface used here cannot express (above 2^31-1 bytes/s, about 17 Gbit/s).
void check_rate(uint64_t rate);

// Adds the two token buckets for the sandbox whose NAT network is `lease`; `pidfd` is its process.
void limit_rate(const NatLease& lease, int pidfd, uint64_t rate, StepLog& log);

}  // namespace nsrun::net
