// What the sandbox's resolver is told. A name server on the host's loopback (systemd-resolved's 127.0.0.53,
// a local dnsmasq...) is unreachable from the sandbox's own loopback, the most common way DNS dies in network
// namespaces (firejail #266, k3s #5349).
#include <arpa/inet.h>


#include "base/error.h"
#include "base/files.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {
namespace {

constexpr const char* kEtcResolvConf = "/etc/resolv.conf";
constexpr const char* kSystemdResolvConf = "/run/systemd/resolve/resolv.conf";
constexpr const char* kSystemdStub = "127.0.0.53";

struct ResolverFile {
    std::vector<std::string> nameservers;
    std::vector<std::string> other_lines;  // search, domain, options, sortlist: kept as the host has them
};

ResolverFile parse(const std::string& text) {
    ResolverFile file;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string keyword, value;
        words >> keyword;
        if (keyword.empty() || keyword[0] == '#' || keyword[0] == ';') continue;
        if (keyword == "nameserver") {
            if (words >> value) file.nameservers.push_back(value);
        } else {
            file.other_lines.push_back(line);
        }
    }
    return file;
}

// A server the sandbox can use: an address (glibc ignores anything else; a scoped fe80::1%eth0 names a host
// interface the sandbox does not have) that is not on the host's loopback.
bool usable_from_sandbox(const std::string& server) {
    in_addr v4;
    if (inet_pton(AF_INET, server.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) != 127;
    in6_addr v6;
    if (inet_pton(AF_INET6, server.c_str(), &v6) == 1)
        return !IN6_IS_ADDR_LOOPBACK(&v6) && !(IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

std::vector<std::string> reachable(const std::vector<std::string>& servers) {
    std::vector<std::string> result;
    for (const auto& server : servers)
        if (usable_from_sandbox(server)) result.push_back(server);
    return result;
}

std::string render(const std::vector<std::string>& other_lines, const std::vector<std::string>& servers,
                   const std::string& origin) {
    std::string text = "# nsrun: this sandbox's view, " + origin + "; the host's file is unchanged\n";
    for (const auto& line : other_lines) text += line + '\n';
    for (const auto& server : servers) text += "nameserver " + server + '\n';
    return text;
}

}  // namespace

std::optional<std::string> sandbox_resolv_conf(const ResolverFiles& host, const std::vector<NameServer>& dns_servers) {
    ResolverFile etc = parse(host.etc_resolv_conf);
    if (!dns_servers.empty()) {
        std::vector<std::string> servers;
        for (const auto& server : dns_servers) servers.push_back(server.address);
        return render(etc.other_lines, servers, "from --dns");
    }
    // No name server at all means 127.0.0.1 to glibc: loopback too.
    std::vector<std::string> usable = reachable(etc.nameservers);
    if (!etc.nameservers.empty() && usable.size() == etc.nameservers.size()) return std::nullopt;
    if (!usable.empty()) return render(etc.other_lines, usable, "the host's name servers less those on loopback");

    bool uses_resolved = false;
    for (const auto& server : etc.nameservers) uses_resolved |= server == kSystemdStub;
    if (uses_resolved && host.systemd_resolv_conf) {
        std::vector<std::string> upstream = reachable(parse(*host.systemd_resolv_conf).nameservers);
        if (!upstream.empty())
            return render(etc.other_lines, upstream, std::string("systemd-resolved's upstream servers from ") +
                                                         kSystemdResolvConf);
        fail("dns", std::string("the host resolves names through systemd-resolved's stub 127.0.0.53, which the "
                                "sandbox cannot reach, and ") +
                        kSystemdResolvConf + " lists no upstream server; pass --dns=IP");
    }
    std::string what = etc.nameservers.empty() ? std::string(kEtcResolvConf) + " names no server (so 127.0.0.1)"
                                               : "the host's name server " + etc.nameservers.front() + " is on loopback";
    fail("dns", what + ", which the sandbox cannot reach; pass --dns=IP (a server the host can reach)");
}

std::vector<std::string> resolv_conf_servers(const std::string& text) { return parse(text).nameservers; }

ResolverFiles read_host_resolver_files() {
    ResolverFiles files;
    files.etc_resolv_conf = read_file(kEtcResolvConf).value_or("");
    files.systemd_resolv_conf = read_file(kSystemdResolvConf);
    return files;
}

}  // namespace nsrun::net
