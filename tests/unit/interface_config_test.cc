// The pure pieces of --net=move: which addresses and routes are worth re-adding, the record file, and the
// checks on --address/--gateway.
#include "netsetup/move/interface_config.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"
#include "netsetup/move/moved_interface.h"

namespace nsrun::net {
namespace {

template <typename Header>
std::string bytes_of(const Header& header) {
    std::string out(reinterpret_cast<const char*>(&header), sizeof header);
    out.append(NLMSG_ALIGN(sizeof header) - sizeof header, '\0');
    return out;
}

void add_attribute(std::string& body, unsigned short type, const void* data, size_t size) {
    rtattr attribute{};
    attribute.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    attribute.rta_type = type;
    body.append(reinterpret_cast<const char*>(&attribute), sizeof attribute);
    body.append(static_cast<const char*>(data), size);
    body.append(RTA_ALIGN(attribute.rta_len) - attribute.rta_len, '\0');
}

void add_u32(std::string& body, unsigned short type, uint32_t value) { add_attribute(body, type, &value, 4); }

void add_ip(std::string& body, unsigned short type, int family, const char* text) {
    unsigned char bytes[16];
    ASSERT_EQ(inet_pton(family, text, bytes), 1) << text;
    add_attribute(body, type, bytes, family == AF_INET ? 4 : 16);
}

std::string address_body(int family, const char* address, unsigned prefix, uint32_t flags, int index = 7) {
    ifaddrmsg header{};
    header.ifa_family = uint8_t(family);
    header.ifa_prefixlen = uint8_t(prefix);
    header.ifa_index = uint32_t(index);
    std::string body = bytes_of(header);
    add_ip(body, IFA_ADDRESS, family, address);
    if (family == AF_INET) add_ip(body, IFA_LOCAL, family, address);
    ifa_cacheinfo cache{};
    add_attribute(body, IFA_CACHEINFO, &cache, sizeof cache);
    add_u32(body, IFA_FLAGS, flags);
    return body;
}

struct RouteSpec {
    int family = AF_INET;
    const char* dst = "198.51.100.240";
    unsigned dst_len = 28;
    const char* gateway = nullptr;
    int oif = 7;
    uint8_t protocol = RTPROT_BOOT;
    uint8_t type = RTN_UNICAST;
    uint32_t table = RT_TABLE_MAIN;
    uint32_t flags = 0;
    bool multipath = false;
};

std::string route_body(const RouteSpec& spec) {
    rtmsg header{};
    header.rtm_family = uint8_t(spec.family);
    header.rtm_dst_len = uint8_t(spec.dst_len);
    header.rtm_table = uint8_t(spec.table < 256 ? spec.table : RT_TABLE_UNSPEC);
    header.rtm_protocol = spec.protocol;
    header.rtm_type = spec.type;
    header.rtm_flags = spec.flags;
    std::string body = bytes_of(header);
    add_u32(body, RTA_TABLE, spec.table);
    if (spec.dst_len) add_ip(body, RTA_DST, spec.family, spec.dst);
    if (spec.gateway) add_ip(body, RTA_GATEWAY, spec.family, spec.gateway);
    if (spec.oif) add_u32(body, RTA_OIF, uint32_t(spec.oif));
    rta_cacheinfo cache{};
    add_attribute(body, RTA_CACHEINFO, &cache, sizeof cache);
    if (spec.multipath) add_u32(body, RTA_MULTIPATH, 0);
    return body;
}

TEST(KeptAddress, PermanentAddressesAreKeptWithoutOutputOnlyAttributes) {
    auto kept = kept_address(address_body(AF_INET, "198.51.100.250", 24, IFA_F_PERMANENT));
    ASSERT_TRUE(kept);
    EXPECT_EQ(describe_address(*kept), "198.51.100.250/24");
    // IFA_CACHEINFO (lifetimes, timestamps) is gone: the kernel's answer, not a request.
    EXPECT_EQ(kept->size(), address_body(AF_INET, "198.51.100.250", 24, IFA_F_PERMANENT).size() -
                                RTA_SPACE(sizeof(ifa_cacheinfo)));
    auto v6 = kept_address(address_body(AF_INET6, "2001:db8:5::10", 64, IFA_F_PERMANENT | IFA_F_NODAD));
    ASSERT_TRUE(v6);
    EXPECT_EQ(describe_address(*v6), "2001:db8:5::10/64");
}

TEST(KeptAddress, DynamicAndLinkLocalAddressesAreLeftToWhoeverMadeThem) {
    EXPECT_FALSE(kept_address(address_body(AF_INET, "198.51.100.77", 24, 0)));  // a DHCP lease with lifetimes
    EXPECT_FALSE(kept_address(address_body(AF_INET6, "2001:db8:5::abcd", 64, IFA_F_MANAGETEMPADDR)));  // SLAAC
    EXPECT_FALSE(kept_address(address_body(AF_INET6, "fe80::1", 64, IFA_F_PERMANENT)));
    EXPECT_FALSE(kept_address("short"));
}

TEST(KeptAddress, RetargetsToTheInterfacesIndexNow) {
    auto kept = kept_address(address_body(AF_INET, "198.51.100.250", 24, IFA_F_PERMANENT, 7));
    ASSERT_TRUE(kept);
    std::string moved = address_for_index(*kept, 12);
    ifaddrmsg header;
    std::memcpy(&header, moved.data(), sizeof header);
    EXPECT_EQ(header.ifa_index, 12u);
}

TEST(KeptRoute, TheInterfacesOwnRoutesInEveryTable) {
    auto plain = kept_route(route_body({}), 7);
    ASSERT_TRUE(plain);
    EXPECT_EQ(describe_route(*plain), "198.51.100.240/28");
    EXPECT_FALSE(route_has_gateway(*plain));
    RouteSpec policy;
    policy.dst_len = 0;
    policy.gateway = "203.0.113.1";
    policy.table = 1000;
    auto in_table = kept_route(route_body(policy), 7);
    ASSERT_TRUE(in_table);
    EXPECT_EQ(describe_route(*in_table), "default via 203.0.113.1 table 1000");
    EXPECT_TRUE(route_has_gateway(*in_table));
    EXPECT_FALSE(is_main_default_route(*in_table));
    RouteSpec v6;
    v6.family = AF_INET6;
    v6.dst = "2001:db8:7::";
    v6.dst_len = 64;
    v6.gateway = "2001:db8:5::1";
    auto six = kept_route(route_body(v6), 7);
    ASSERT_TRUE(six);
    EXPECT_EQ(describe_route(*six), "2001:db8:7::/64 via 2001:db8:5::1");
}

TEST(KeptRoute, KernelRaMultipathLocalAndOtherInterfacesRoutesAreNot) {
    RouteSpec kernel;
    kernel.protocol = RTPROT_KERNEL;
    EXPECT_FALSE(kept_route(route_body(kernel), 7));
    RouteSpec ra;
    ra.protocol = RTPROT_RA;
    EXPECT_FALSE(kept_route(route_body(ra), 7));
    RouteSpec local;
    local.table = RT_TABLE_LOCAL;
    EXPECT_FALSE(kept_route(route_body(local), 7));
    RouteSpec broadcast;
    broadcast.type = RTN_BROADCAST;
    EXPECT_FALSE(kept_route(route_body(broadcast), 7));
    RouteSpec multipath;
    multipath.multipath = true;
    EXPECT_FALSE(kept_route(route_body(multipath), 7));
    RouteSpec cloned;
    cloned.flags = RTM_F_CLONED;
    EXPECT_FALSE(kept_route(route_body(cloned), 7));
    EXPECT_FALSE(kept_route(route_body({}), 8));
}

TEST(KeptRoute, RetargetsTheOutputInterface) {
    auto kept = kept_route(route_body({}), 7);
    ASSERT_TRUE(kept);
    EXPECT_TRUE(kept_route(route_for_index(*kept, 31), 31));
    EXPECT_FALSE(kept_route(route_for_index(*kept, 31), 7));
}

TEST(MainDefaultRoute, OnlyTheMainTablesDefault) {
    RouteSpec main_default;
    main_default.dst_len = 0;
    main_default.gateway = "198.51.100.1";
    EXPECT_TRUE(is_main_default_route(route_body(main_default)));
    EXPECT_EQ(describe_route(route_body(main_default)), "default via 198.51.100.1");
    EXPECT_FALSE(is_main_default_route(route_body({})));
}

InterfaceState sample_state() {
    InterfaceState state;
    state.name = "nic0";
    state.index = 7;
    state.kind = "veth";
    state.mac = "02:00:5e:00:53:01";
    state.mtu = 1400;
    state.up = true;
    state.addresses.push_back(*kept_address(address_body(AF_INET, "198.51.100.250", 32, IFA_F_PERMANENT)));
    state.addresses.push_back(*kept_address(address_body(AF_INET6, "2001:db8:5::10", 64, IFA_F_PERMANENT)));
    RouteSpec v6;
    v6.family = AF_INET6;
    v6.dst = "2001:db8:7::";
    v6.dst_len = 64;
    v6.gateway = "2001:db8:5::1";
    state.routes.push_back(*kept_route(route_body({}), 7));
    state.routes.push_back(*kept_route(route_body(v6), 7));
    return state;
}

TEST(InterfaceRecord, RoundTrips) {
    InterfaceState state = sample_state();
    std::string text = format_interface_record(state, 4242);
    EXPECT_NE(text.find("address "), std::string::npos);
    EXPECT_NE(text.find(" 198.51.100.250/32\n"), std::string::npos) << text;  // readable for people too
    EXPECT_NE(text.find(" 2001:db8:7::/64 via 2001:db8:5::1\n"), std::string::npos) << text;
    auto parsed = parse_interface_record(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed->owner_pid, 4242);
    EXPECT_EQ(parsed->state.name, "nic0");
    EXPECT_EQ(parsed->state.index, 7);
    EXPECT_EQ(parsed->state.kind, "veth");
    EXPECT_EQ(parsed->state.mac, state.mac);
    EXPECT_EQ(parsed->state.perm_mac, "");
    EXPECT_EQ(parsed->state.mtu, 1400u);
    EXPECT_TRUE(parsed->state.up);
    EXPECT_EQ(parsed->state.addresses, state.addresses);
    EXPECT_EQ(parsed->state.routes, state.routes);
}

// A named sandbox's namespace outlives a killed nsrun: the record says where the next nsrun finds it.
TEST(InterfaceRecord, WhereTheSandboxsNamespaceIsHeldRoundTrips) {
    auto parsed = parse_interface_record(format_interface_record(sample_state(), 1, "/run/netns/mgmt", 4026532999));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->held_at, "/run/netns/mgmt");
    EXPECT_EQ(parsed->netns, 4026532999u);
    auto unnamed = parse_interface_record(format_interface_record(sample_state(), 1));
    ASSERT_TRUE(unnamed);
    EXPECT_EQ(unnamed->held_at, "");
    std::string relative = format_interface_record(sample_state(), 1, "run/netns/mgmt", 1);
    EXPECT_FALSE(parse_interface_record(relative)) << "only an absolute path is a place to look";
    std::string no_inode = format_interface_record(sample_state(), 1);
    no_inode.insert(no_inode.find("end\n"), "held_at /run/netns/mgmt\n");
    EXPECT_FALSE(parse_interface_record(no_inode));
}

TEST(InterfaceRecord, IncompleteOrForeignTextIsNoRecord) {
    std::string text = format_interface_record(sample_state(), 1);
    EXPECT_FALSE(parse_interface_record(text.substr(0, text.size() - 4)));  // cut before "end"
    EXPECT_FALSE(parse_interface_record(""));
    EXPECT_FALSE(parse_interface_record("nsrun-moved-interface 2\nname x\nend\n"));
    std::string bad_hex = text;
    bad_hex.replace(bad_hex.find("address ") + 8, 1, "z");
    EXPECT_FALSE(parse_interface_record(bad_hex));
    std::string unknown = text;
    unknown.insert(unknown.find("end\n"), "colour blue\n");
    EXPECT_FALSE(parse_interface_record(unknown));
}

MoveRequest request(std::vector<const char*> addresses, const char* gateway) {
    MoveRequest r{"nic0", {}, {}, {}};
    for (auto* a : addresses) r.addresses.push_back(parse_interface_address(a));
    if (gateway) r.gateway = *Ipv4::parse(gateway);
    return r;
}

// What check_move_request() refuses the request with ("doing: why"), or "" when it accepts it.
std::string refusal(const MoveRequest& r) {
    try {
        check_move_request(r);
        return "";
    } catch (const Error& error) {
        return error.what();
    }
}

TEST(MoveRequest, GatewayMustBeInTheNetworkOfAnAddress) {
    EXPECT_EQ(refusal(request({}, nullptr)), "");
    EXPECT_EQ(refusal(request({"203.0.113.10/24"}, "203.0.113.1")), "");
    EXPECT_EQ(refusal(request({"198.51.100.5/30", "203.0.113.10/24"}, "203.0.113.254")), "");
    const std::string outside = "--gateway 203.0.113.1: not in the network of any --address";
    EXPECT_EQ(refusal(request({}, "203.0.113.1")), outside);
    EXPECT_EQ(refusal(request({"203.0.113.10/24"}, "198.51.100.1")), "--gateway 198.51.100.1: not in the network of any --address");
    EXPECT_EQ(refusal(request({"203.0.113.10/32"}, "203.0.113.1")), outside);
    EXPECT_EQ(refusal(request({"203.0.113.10/24"}, "203.0.113.10")), "--gateway 203.0.113.10: is the sandbox's own --address");
}

TEST(MoveRequest, AnAddressOnlyOnce) {
    EXPECT_EQ(refusal(request({"203.0.113.10/24", "203.0.113.10/25"}, nullptr)),
              "--address 203.0.113.10/25: that address is already given");
}

}  // namespace
}  // namespace nsrun::net
