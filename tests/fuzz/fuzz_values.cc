// Every parser of one option value: addresses, CIDRs, name servers, port specs, rates, names, capabilities,
// rlimits, mounts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/ip_address.h"
#include "netsetup/host/network_options.h"
#include "runtime/capabilities.h"
#include "runtime/process_settings.h"

namespace {

template <typename F>
void tolerate_errors(F&& parse) {
    try {
        parse();
    } catch (const nsrun::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    if (auto address = nsrun::Ipv4::parse(text)) {
        if (nsrun::Ipv4::parse(address->str()) != address) __builtin_trap();  // printing round-trips
    }
    if (auto cidr = nsrun::Ipv4Cidr::parse(text)) {
        if (nsrun::Ipv4Cidr::parse(cidr->str()) != cidr) __builtin_trap();
    }
    tolerate_errors([&] {
        auto mapping = nsrun::net::parse_port_mapping(text);
        if (nsrun::net::parse_port_mapping(mapping.str()) != mapping) __builtin_trap();
    });
    tolerate_errors([&] {
        // The canonical form is what resolv.conf gets: it must parse back to itself.
        auto server = nsrun::net::parse_name_server(text);
        if (nsrun::net::parse_name_server(server.address) != server) __builtin_trap();
    });
    tolerate_errors([&] { nsrun::net::parse_rate(text); });
    tolerate_errors([&] { nsrun::net::parse_interface_address(text); });
    tolerate_errors([&] { nsrun::net::parse_sandbox_name(text); });
    tolerate_errors([&] { nsrun::runtime::parse_capabilities(text); });
    tolerate_errors([&] { nsrun::runtime::parse_rlimit(text); });
    tolerate_errors([&] { nsrun::runtime::parse_mount(nsrun::runtime::MountRequest::Kind::bind, text); });
    return 0;
}
