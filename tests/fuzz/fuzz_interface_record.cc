// Any bytes: the --net=move record parser and the raw rtnetlink body filters (which walk attributes the
// kernel sent) return or refuse, never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "netsetup/move/interface_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto record = nsrun::net::parse_interface_record(bytes)) {
        // What parses formats again and parses back the same.
        auto again = nsrun::net::parse_interface_record(
            nsrun::net::format_interface_record(record->state, record->owner_pid));
        if (!again || again->state.addresses != record->state.addresses || again->state.routes != record->state.routes)
            __builtin_trap();
    }
    if (auto address = nsrun::net::kept_address(bytes)) {
        nsrun::net::describe_address(*address);
        nsrun::net::address_for_index(*address, 3);
    }
    nsrun::net::describe_address(bytes);
    if (auto route = nsrun::net::kept_route(bytes, 3)) {
        nsrun::net::describe_route(*route);
        nsrun::net::route_for_index(*route, 4);
        nsrun::net::route_has_gateway(*route);
    }
    nsrun::net::describe_route(bytes);
    nsrun::net::is_main_default_route(bytes);
    return 0;
}
