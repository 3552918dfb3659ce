// The cost of ensure_nat_rules() on its own, the NAT step of every --net=nat launch:
//   nat_check_bench [--calls N]        (root; runs in a network namespace of its own)
// Each case times N calls and prints median, p90 and p99: the steady state (one GETGEN against the record of
// the last check) and the full check (the record removed before each call, as after any change to the host's
// ruleset), with the table alone, with iptables' FORWARD policy DROP, and with 3,000 more iptables chains (a
// kube-proxy-sized ruleset: the full check walks every chain of every table), IPv4-only and dual-stack.
// Needs nft and iptables; the machine's own network namespace is never touched.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/state_directory.h"
#include "base/step_log.h"
#include "netsetup/nft/nat_rules.h"

namespace {

const nsrun::net::NatPools kIpv4{*nsrun::Ipv4Cidr::parse("203.0.113.0/24"), std::nullopt};
const nsrun::net::NatPools kDualStack{kIpv4.v4, *nsrun::Ipv6Cidr::parse("2001:db8:6e73::/64")};

void measure(const char* label, const nsrun::net::NatPools& pools, bool full, int calls) {
    std::vector<double> us(static_cast<size_t>(calls));
    nsrun::StepLog quiet(false);
    nsrun::net::ensure_nat_rules(pools, quiet);
    for (double& t : us) {
        if (full) ::unlink(NSRUN_STATE_DIRECTORY "/nat.verified");  // the record of the last check
        auto start = std::chrono::steady_clock::now();
        nsrun::net::ensure_nat_rules(pools, quiet);
        t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    }
    std::sort(us.begin(), us.end());
    std::printf("%-66s median %8.1f us  p90 %8.1f us  p99 %8.1f us\n", label, us[us.size() / 2],
                us[us.size() * 9 / 10], us[us.size() * 99 / 100]);
}

void shell(const char* command) {
    if (std::system(command) != 0) {
        std::fprintf(stderr, "nat_check_bench: failed: %s\n", command);
        std::exit(1);
    }
}

void measure_both(const std::string& ruleset, int calls) {
    for (const auto* pools : {&kIpv4, &kDualStack})
        for (bool full : {false, true}) {
            std::string label = std::string(pools == &kIpv4 ? "IPv4" : "dual-stack") + ", " + ruleset +
                                (full ? ", full check" : ", steady state");
            measure(label.c_str(), *pools, full, calls);
        }
}

}  // namespace

int main(int argc, char** argv) {
    int calls = 2000;
    if (argc == 3 && std::strcmp(argv[1], "--calls") == 0) calls = std::max(1, std::atoi(argv[2]));
    if (::unshare(CLONE_NEWNET) != 0) {
        std::perror("nat_check_bench: unshare(CLONE_NEWNET) (needs root)");
        return 1;
    }
    try {
        measure_both("table only", calls);
        shell("iptables -P FORWARD DROP");
        measure_both("iptables FORWARD DROP", calls);
        shell("for i in $(seq 1 3000); do echo \"add chain ip filter KUBE-SEP-$i\"; "
              "echo \"add rule ip filter KUBE-SEP-$i counter accept\"; done | nft -f -");
        measure_both("FORWARD DROP and 3000 more iptables chains", calls);
    } catch (const nsrun::Error& error) {
        std::fprintf(stderr, "nat_check_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
