#include "netsetup/move/interface_config.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>

#include "base/error.h"
#include "base/hex.h"
#include "base/ip_address.h"
#include "netsetup/netlink.h"

namespace nsrun::net {
namespace {

constexpr unsigned short kTypeMask = static_cast<unsigned short>(~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));

template <typename Header>
std::optional<Header> header_of(std::string_view body) {
    if (body.size() < sizeof(Header)) return std::nullopt;
    Header header;
    std::memcpy(&header, body.data(), sizeof header);
    return header;
}

// Calls f(type, payload, whole attribute) for each well-formed attribute after a fixed header.
template <typename F>
void for_each_attribute(std::string_view body, size_t header_size, F&& f) {
    size_t offset = NLMSG_ALIGN(header_size);
    while (offset + sizeof(rtattr) <= body.size()) {
        rtattr attribute;
        std::memcpy(&attribute, body.data() + offset, sizeof attribute);
        if (attribute.rta_len < sizeof(rtattr) || offset + attribute.rta_len > body.size()) return;
        f(static_cast<unsigned short>(attribute.rta_type & kTypeMask),
          body.substr(offset + RTA_LENGTH(0), attribute.rta_len - RTA_LENGTH(0)), body.substr(offset, attribute.rta_len));
        offset += RTA_ALIGN(attribute.rta_len);
    }
}

void append_aligned(std::string& out, std::string_view bytes) {
    out.append(bytes);
    out.append(RTA_ALIGN(bytes.size()) - bytes.size(), '\0');
}

uint32_t u32_of(std::string_view payload) {
    uint32_t value = 0;
    if (payload.size() >= sizeof value) std::memcpy(&value, payload.data(), sizeof value);
    return value;
}

std::string address_text(int family, std::string_view bytes) {
    char text[INET6_ADDRSTRLEN] = "?";
    if ((family == AF_INET && bytes.size() == 4) || (family == AF_INET6 && bytes.size() == 16))
        ::inet_ntop(family, bytes.data(), text, sizeof text);
    return text;
}

std::string mac_text(std::string_view bytes) {
    std::string text;
    for (unsigned char byte : bytes) {
        if (!text.empty()) text += ':';
        append_hex(text, byte);
    }
    return text;
}

// Two lower-case hex digits as one byte.
std::optional<char> hex_byte(std::string_view two) {
    unsigned value = 0;
    for (char c : two) {
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return std::nullopt;
        value = value * 16 + unsigned(digit);
    }
    return char(value);
}

std::optional<std::string> mac_bytes(std::string_view text) {
    std::string bytes;
    for (size_t i = 0; i < text.size(); i += 3) {
        if (i + 2 > text.size() || (i + 2 < text.size() && text[i + 2] != ':')) return std::nullopt;
        auto byte = hex_byte(text.substr(i, 2));
        if (!byte) return std::nullopt;
        bytes += *byte;
    }
    return bytes;
}

std::optional<std::string> bytes_of_hex(std::string_view text) {
    if (text.size() % 2) return std::nullopt;
    std::string bytes;
    for (size_t i = 0; i < text.size(); i += 2) {
        auto byte = hex_byte(text.substr(i, 2));
        if (!byte) return std::nullopt;
        bytes += *byte;
    }
    return bytes;
}

bool is_ipv6_link_local(std::string_view bytes) {
    return bytes.size() == 16 && uint8_t(bytes[0]) == 0xfe && (uint8_t(bytes[1]) & 0xc0) == 0x80;
}

// ---- raw requests ----

using Handler = std::function<void(nlmsghdr*)>;

int call_handler(nl_msg* message, void* arg) {
    (*static_cast<Handler*>(arg))(nlmsg_hdr(message));
    return NL_OK;
}

int receive(nl_sock* socket, Handler handler) {
    nl_cb* previous = nl_socket_get_cb(socket);
    std::unique_ptr<nl_cb, NlDeleter<nl_cb_put>> callbacks(nl_cb_clone(previous));
    nl_cb_put(previous);
    if (!callbacks) return -NLE_NOMEM;
    nl_cb_set(callbacks.get(), NL_CB_VALID, NL_CB_CUSTOM, call_handler, &handler);
    return nl_recvmsgs(socket, callbacks.get());
}

NlMsg new_message(int type, int flags, const void* header, size_t size, const std::string& doing) {
    NlMsg message(nlmsg_alloc_simple(type, flags));
    if (!message) fail(doing, "out of memory");
    check_nl(nlmsg_append(message.get(), const_cast<void*>(header), size, NLMSG_ALIGNTO), doing);
    return message;
}

// Sends one request and waits for the kernel's answer; a libnl error code or 0.
int send_and_ack(nl_sock* socket, NlMsg message) { return nl_send_sync(socket, message.release()); }

std::vector<std::string> dump(nl_sock* socket, NlMsg request, int reply_type, const std::string& doing) {
    check_nl(nl_send_auto(socket, request.get()), doing);
    std::vector<std::string> bodies;
    check_nl(receive(socket,
                     [&](nlmsghdr* header) {
                         if (header->nlmsg_type != reply_type) return;
                         bodies.emplace_back(static_cast<const char*>(nlmsg_data(header)), size_t(nlmsg_datalen(header)));
                     }),
             doing);
    return bodies;
}

void parse_link(nlmsghdr* header, InterfaceState& state) {
    auto* info = static_cast<ifinfomsg*>(nlmsg_data(header));
    std::string_view body(static_cast<const char*>(nlmsg_data(header)), size_t(nlmsg_datalen(header)));
    state.index = info->ifi_index;
    state.up = info->ifi_flags & IFF_UP;
    state.loopback = info->ifi_flags & IFF_LOOPBACK;
    for_each_attribute(body, sizeof(ifinfomsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        switch (type) {
            case IFLA_IFNAME: state.name = std::string(payload.substr(0, payload.find('\0'))); break;
            case IFLA_MTU: state.mtu = u32_of(payload); break;
            case IFLA_ADDRESS: state.mac = mac_text(payload); break;
            case IFLA_PERM_ADDRESS: state.perm_mac = mac_text(payload); break;
            case IFLA_MASTER: state.master = int(u32_of(payload)); break;
            case IFLA_LINKINFO:
                for_each_attribute(payload, 0, [&](unsigned short inner, std::string_view value, std::string_view) {
                    if (inner == IFLA_INFO_KIND) state.kind = std::string(value.substr(0, value.find('\0')));
                });
                break;
            default: break;
        }
    });
}

int send_link_change(nl_sock* socket, int index, unsigned change, unsigned flags, const std::string& doing,
                     unsigned mtu = 0, const std::string& mac = {}) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    info.ifi_change = change;
    info.ifi_flags = flags;
    NlMsg message = new_message(RTM_NEWLINK, 0, &info, sizeof info, doing);
    if (mtu) check_nl(nla_put_u32(message.get(), IFLA_MTU, mtu), doing);
    if (!mac.empty()) check_nl(nla_put(message.get(), IFLA_ADDRESS, int(mac.size()), mac.data()), doing);
    return send_and_ack(socket, std::move(message));
}

}  // namespace

// ---- pure pieces ----

std::optional<std::string> kept_address(std::string_view body) {
    auto header = header_of<ifaddrmsg>(body);
    if (!header || (header->ifa_family != AF_INET && header->ifa_family != AF_INET6)) return std::nullopt;
    uint32_t flags = header->ifa_flags;
    std::string_view address;
    for_each_attribute(body, sizeof(ifaddrmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        if (type == IFA_FLAGS) flags = u32_of(payload);
        if (type == IFA_ADDRESS) address = payload;
    });
    if (!(flags & IFA_F_PERMANENT)) return std::nullopt;
    if (header->ifa_family == AF_INET6 && is_ipv6_link_local(address)) return std::nullopt;
    std::string kept(body.substr(0, NLMSG_ALIGN(sizeof(ifaddrmsg))));
    for_each_attribute(body, sizeof(ifaddrmsg), [&](unsigned short type, std::string_view, std::string_view whole) {
        switch (type) {
            case IFA_ADDRESS: case IFA_LOCAL: case IFA_BROADCAST: case IFA_LABEL: case IFA_FLAGS:
            case IFA_RT_PRIORITY: case IFA_PROTO:
                append_aligned(kept, whole);
                break;
            default: break;  // lifetimes (IFA_CACHEINFO), multicast/anycast are the kernel's to fill in
        }
    });
    return kept;
}

std::optional<std::string> kept_route(std::string_view body, int index) {
    auto header = header_of<rtmsg>(body);
    if (!header || (header->rtm_family != AF_INET && header->rtm_family != AF_INET6)) return std::nullopt;
    if (header->rtm_type != RTN_UNICAST || header->rtm_protocol == RTPROT_KERNEL || header->rtm_protocol == RTPROT_RA)
        return std::nullopt;
    if (header->rtm_flags & RTM_F_CLONED) return std::nullopt;
    uint32_t table = header->rtm_table;
    int oif = 0;
    bool other_nexthops = false, expires = false;
    for_each_attribute(body, sizeof(rtmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        if (type == RTA_TABLE) table = u32_of(payload);
        if (type == RTA_OIF) oif = int(u32_of(payload));
        if (type == RTA_MULTIPATH || type == RTA_NH_ID) other_nexthops = true;
        if (type == RTA_EXPIRES) expires = true;
    });
    if (table == RT_TABLE_LOCAL || oif != index || other_nexthops || expires) return std::nullopt;
    rtmsg clean = *header;
    clean.rtm_flags &= RTNH_F_ONLINK;
    std::string kept(reinterpret_cast<const char*>(&clean), sizeof clean);
    kept.append(NLMSG_ALIGN(sizeof clean) - sizeof clean, '\0');
    for_each_attribute(body, sizeof(rtmsg), [&](unsigned short type, std::string_view, std::string_view whole) {
        switch (type) {
            case RTA_DST: case RTA_SRC: case RTA_GATEWAY: case RTA_PRIORITY: case RTA_PREFSRC: case RTA_METRICS:
            case RTA_FLOW: case RTA_TABLE: case RTA_OIF: case RTA_PREF: case RTA_VIA: case RTA_ENCAP_TYPE:
            case RTA_ENCAP:
                append_aligned(kept, whole);
                break;
            default: break;  // RTA_CACHEINFO and the like are output only
        }
    });
    return kept;
}

bool is_main_default_route(std::string_view body) {
    auto header = header_of<rtmsg>(body);
    if (!header || header->rtm_dst_len != 0 || header->rtm_type != RTN_UNICAST) return false;
    if (header->rtm_flags & RTM_F_CLONED) return false;
    uint32_t table = header->rtm_table;
    for_each_attribute(body, sizeof(rtmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        if (type == RTA_TABLE) table = u32_of(payload);
    });
    return table == RT_TABLE_MAIN;
}

std::string describe_address(std::string_view body) {
    auto header = header_of<ifaddrmsg>(body);
    if (!header) return "?";
    std::string_view local, address;
    for_each_attribute(body, sizeof(ifaddrmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        if (type == IFA_LOCAL) local = payload;
        if (type == IFA_ADDRESS) address = payload;
    });
    if (local.empty()) local = address;
    std::string text = address_text(header->ifa_family, local);
    if (!address.empty() && address != local) text += " peer " + address_text(header->ifa_family, address);
    return text + "/" + std::to_string(header->ifa_prefixlen);
}

std::string describe_route(std::string_view body) {
    auto header = header_of<rtmsg>(body);
    if (!header) return "?";
    std::string destination = header->rtm_dst_len == 0 ? "default" : "?";
    std::string gateway;
    uint32_t table = header->rtm_table, metric = 0;
    for_each_attribute(body, sizeof(rtmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
        if (type == RTA_DST) destination = address_text(header->rtm_family, payload) + "/" + std::to_string(header->rtm_dst_len);
        if (type == RTA_GATEWAY) gateway = address_text(header->rtm_family, payload);
        if (type == RTA_TABLE) table = u32_of(payload);
        if (type == RTA_PRIORITY) metric = u32_of(payload);
    });
    std::string text = destination;
    if (!gateway.empty()) text += " via " + gateway;
    if (table != RT_TABLE_MAIN) text += " table " + std::to_string(table);
    if (metric) text += " metric " + std::to_string(metric);
    return text;
}

std::string address_for_index(std::string_view body, int index) {
    std::string out(body);
    if (out.size() >= sizeof(ifaddrmsg)) {
        uint32_t value = uint32_t(index);
        std::memcpy(out.data() + offsetof(ifaddrmsg, ifa_index), &value, sizeof value);
    }
    return out;
}

std::string route_for_index(std::string_view body, int index) {
    std::string out(body);
    size_t offset = NLMSG_ALIGN(sizeof(rtmsg));
    while (offset + sizeof(rtattr) <= out.size()) {
        rtattr attribute;
        std::memcpy(&attribute, out.data() + offset, sizeof attribute);
        if (attribute.rta_len < sizeof(rtattr) || offset + attribute.rta_len > out.size()) break;
        if ((attribute.rta_type & kTypeMask) == RTA_OIF && attribute.rta_len >= RTA_LENGTH(4)) {
            uint32_t value = uint32_t(index);
            std::memcpy(out.data() + offset + RTA_LENGTH(0), &value, sizeof value);
        }
        offset += RTA_ALIGN(attribute.rta_len);
    }
    return out;
}

bool route_has_gateway(std::string_view body) {
    bool gateway = false;
    for_each_attribute(body, sizeof(rtmsg), [&](unsigned short type, std::string_view, std::string_view) {
        if (type == RTA_GATEWAY || type == RTA_VIA) gateway = true;
    });
    return gateway;
}

// A record is a few "key value" lines; addresses and routes are hex of their message bodies followed by a
// description for whoever reads the file.
std::string format_interface_record(const InterfaceState& state, long owner_pid, const std::string& held_at,
                                    uint64_t netns) {
    std::string text = "# nsrun: interface " + state.name + " as it was before nsrun (pid " +
                       std::to_string(owner_pid) + ") gave it to a sandbox; nsrun restores it from here\n";
    text += "nsrun-moved-interface 1\n";
    text += "owner " + std::to_string(owner_pid) + "\n";
    text += "name " + state.name + "\n";
    text += "index " + std::to_string(state.index) + "\n";
    text += "kind " + state.kind + "\n";
    text += "mac " + state.mac + "\n";
    text += "perm_mac " + state.perm_mac + "\n";
    text += "mtu " + std::to_string(state.mtu) + "\n";
    text += std::string("up ") + (state.up ? "1" : "0") + "\n";
    for (const auto& address : state.addresses) text += "address " + hex_of(address) + " " + describe_address(address) + "\n";
    for (const auto& route : state.routes) text += "route " + hex_of(route) + " " + describe_route(route) + "\n";
    if (!held_at.empty()) text += "held_at " + std::to_string(netns) + " " + held_at + "\n";
    text += "end\n";
    return text;
}

std::optional<InterfaceRecord> parse_interface_record(std::string_view text) {
    InterfaceRecord record;
    bool versioned = false, ended = false, named = false;
    while (!text.empty() && !ended) {
        size_t newline = text.find('\n');
        if (newline == std::string_view::npos) return std::nullopt;  // a record always ends with "end\n"
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline + 1);
        if (line.empty() || line[0] == '#') continue;
        size_t space = line.find(' ');
        std::string_view key = line.substr(0, space);
        std::string_view value = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        auto number = [&](uint64_t max) { return parse_decimal(value, max); };
        InterfaceState& state = record.state;
        if (key == "nsrun-moved-interface") {
            if (value != "1") return std::nullopt;
            versioned = true;
        } else if (key == "owner") {
            auto pid = number(INT32_MAX);
            if (!pid) return std::nullopt;
            record.owner_pid = long(*pid);
        } else if (key == "name") {
            if (value.empty() || value.size() >= IFNAMSIZ) return std::nullopt;
            state.name = value;
            named = true;
        } else if (key == "index") {
            auto index = number(INT32_MAX);
            if (!index) return std::nullopt;
            state.index = int(*index);
        } else if (key == "kind") {
            state.kind = value;
        } else if (key == "mac" || key == "perm_mac") {
            if (!mac_bytes(value)) return std::nullopt;
            (key == "mac" ? state.mac : state.perm_mac) = value;
        } else if (key == "mtu") {
            auto mtu = number(UINT32_MAX);
            if (!mtu) return std::nullopt;
            state.mtu = unsigned(*mtu);
        } else if (key == "up") {
            if (value != "0" && value != "1") return std::nullopt;
            state.up = value == "1";
        } else if (key == "address" || key == "route") {
            auto bytes = bytes_of_hex(value.substr(0, value.find(' ')));
            if (!bytes || bytes->empty()) return std::nullopt;
            (key == "address" ? state.addresses : state.routes).push_back(std::move(*bytes));
        } else if (key == "held_at") {
            size_t gap = value.find(' ');
            auto netns = parse_decimal(value.substr(0, gap), UINT64_MAX);
            if (!netns || gap == std::string_view::npos || value.substr(gap + 1).find('/') != 0) return std::nullopt;
            record.netns = *netns;
            record.held_at = value.substr(gap + 1);
        } else if (key == "end") {
            ended = true;
        } else {
            return std::nullopt;
        }
    }
    if (!versioned || !ended || !named) return std::nullopt;
    return record;
}

// ---- the kernel side ----

std::optional<InterfaceState> read_interface(nl_sock* socket, const std::string& name) {
    const std::string doing = "reading interface " + name;
    if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
    // Strict checking makes the kernel filter the dumps below to this interface.
    int strict = 1;
    ::setsockopt(nl_socket_get_fd(socket), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &strict, sizeof strict);

    ifinfomsg link{};
    link.ifi_family = AF_UNSPEC;
    NlMsg request = new_message(RTM_GETLINK, 0, &link, sizeof link, doing);
    check_nl(nla_put_string(request.get(), IFLA_IFNAME, name.c_str()), doing);
    check_nl(nla_put_u32(request.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS), doing);
    check_nl(nl_send_auto(socket, request.get()), doing);
    InterfaceState state;
    bool found = false;
    int result = receive(socket, [&](nlmsghdr* header) {
        if (header->nlmsg_type != RTM_NEWLINK) return;
        parse_link(header, state);
        found = true;
    });
    if (result == -NLE_OBJ_NOTFOUND || result == -NLE_NODEV) return std::nullopt;
    check_nl(result, doing);
    check_nl(nl_wait_for_ack(socket), doing);
    if (!found) return std::nullopt;

    ifaddrmsg address_filter{};
    address_filter.ifa_family = AF_UNSPEC;
    address_filter.ifa_index = uint32_t(state.index);
    for (const auto& body : dump(socket, new_message(RTM_GETADDR, NLM_F_DUMP, &address_filter, sizeof address_filter, doing),
                                 RTM_NEWADDR, doing)) {
        auto header = header_of<ifaddrmsg>(body);
        if (!header || int(header->ifa_index) != state.index) continue;
        std::string_view address;
        for_each_attribute(body, sizeof(ifaddrmsg), [&](unsigned short type, std::string_view payload, std::string_view) {
            if (type == IFA_ADDRESS) address = payload;
        });
        if (header->ifa_family == AF_INET || (header->ifa_family == AF_INET6 && !is_ipv6_link_local(address)))
            state.configured = true;
        if (auto kept = kept_address(body)) state.addresses.push_back(std::move(*kept));
    }

    rtmsg route_filter{};
    route_filter.rtm_family = AF_UNSPEC;
    NlMsg routes = new_message(RTM_GETROUTE, NLM_F_DUMP, &route_filter, sizeof route_filter, doing);
    check_nl(nla_put_u32(routes.get(), RTA_OIF, uint32_t(state.index)), doing);
    for (const auto& body : dump(socket, std::move(routes), RTM_NEWROUTE, doing)) {
        if (is_main_default_route(body) && !state.default_route) state.default_route = describe_route(body);
        if (auto kept = kept_route(body, state.index)) state.routes.push_back(std::move(*kept));
    }
    return state;
}

int move_interface(nl_sock* socket, int index, int ns_fd, const std::string& name) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    NlMsg message(nlmsg_alloc_simple(RTM_NEWLINK, 0));
    if (!message || nlmsg_append(message.get(), &info, sizeof info, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(message.get(), IFLA_NET_NS_FD, uint32_t(ns_fd)) < 0 ||
        (!name.empty() && nla_put_string(message.get(), IFLA_IFNAME, name.c_str()) < 0))
        return -NLE_NOMEM;
    return send_and_ack(socket, std::move(message));
}

void configure_interface(nl_sock* socket, int index, const std::string& name,
                         const std::vector<InterfaceAddress>& addresses, std::optional<Ipv4> gateway) {
    for (const auto& address : addresses) {
        const std::string doing = "adding " + address.str() + " to " + name;
        ifaddrmsg header{};
        header.ifa_family = AF_INET;
        header.ifa_prefixlen = uint8_t(address.prefix);
        header.ifa_index = uint32_t(index);
        NlMsg message = new_message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &header, sizeof header, doing);
        uint32_t local = address.address.network_order();
        check_nl(nla_put_u32(message.get(), IFA_LOCAL, local), doing);
        check_nl(nla_put_u32(message.get(), IFA_ADDRESS, local), doing);
        if (address.prefix <= 30) {
            Ipv4Cidr network{Ipv4{address.address.value}, address.prefix};
            uint32_t broadcast = htonl(address.address.value | ~network.mask());
            check_nl(nla_put_u32(message.get(), IFA_BROADCAST, broadcast), doing);
        }
        check_nl(send_and_ack(socket, std::move(message)), doing);
    }
    check_nl(send_link_change(socket, index, IFF_UP, IFF_UP, "bringing up " + name), "bringing up " + name);
    if (!gateway) return;
    const std::string doing = "adding the default route via " + gateway->str();
    rtmsg header{};
    header.rtm_family = AF_INET;
    header.rtm_table = RT_TABLE_MAIN;
    header.rtm_protocol = RTPROT_BOOT;
    header.rtm_scope = RT_SCOPE_UNIVERSE;
    header.rtm_type = RTN_UNICAST;
    NlMsg message = new_message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &header, sizeof header, doing);
    check_nl(nla_put_u32(message.get(), RTA_GATEWAY, gateway->network_order()), doing);
    check_nl(nla_put_u32(message.get(), RTA_OIF, uint32_t(index)), doing);
    check_nl(send_and_ack(socket, std::move(message)), doing);
}

std::vector<std::string> restore_interface(nl_sock* socket, const InterfaceState& current, const InterfaceState& saved) {
    std::vector<std::string> problems;
    auto note = [&](int result, const std::string& what) {
        if (result < 0 && result != -NLE_EXIST) problems.push_back(what + ": " + nl_geterror(result));
    };
    const int index = current.index;
    // MTU and MAC first: a moved interface arrives down, when every driver accepts a new MAC.
    unsigned mtu = saved.mtu && saved.mtu != current.mtu ? saved.mtu : 0;
    std::string mac;
    if (!saved.mac.empty() && saved.mac != current.mac) mac = mac_bytes(saved.mac).value_or("");
    if (mtu || !mac.empty())
        note(send_link_change(socket, index, 0, 0, "restoring the MTU and MAC", mtu, mac),
             "restoring MTU " + std::to_string(saved.mtu) + " and MAC " + saved.mac);

    for (const auto& address : saved.addresses) {
        std::string body = address_for_index(address, index);
        NlMsg message = new_message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body.data(), body.size(), "adding an address");
        note(send_and_ack(socket, std::move(message)), "adding address " + describe_address(address));
    }
    if (saved.up != current.up)
        note(send_link_change(socket, index, IFF_UP, saved.up ? IFF_UP : 0, "setting the link state"),
             saved.up ? "bringing it up" : "setting it down");
    // Routes without a gateway first: they may be what makes a gateway reachable.
    for (bool with_gateway : {false, true})
        for (const auto& route : saved.routes) {
            if (route_has_gateway(route) != with_gateway) continue;
            std::string body = route_for_index(route, index);
            NlMsg message = new_message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body.data(), body.size(), "adding a route");
            note(send_and_ack(socket, std::move(message)), "adding route " + describe_route(route));
        }
    return problems;
}

}  // namespace nsrun::net
