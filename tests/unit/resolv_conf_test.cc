#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "netsetup/netsetup.h"

namespace nsrun::net {
namespace {

using ::testing::HasSubstr;

std::vector<NameServer> none;

TEST(SandboxResolvConf, HostFileWorksAsIs) {
    EXPECT_FALSE(sandbox_resolv_conf({"nameserver 198.51.100.53\nsearch example\n", std::nullopt}, none));
}

TEST(SandboxResolvConf, DnsFlagReplacesServersAndKeepsSearch) {
    auto text = sandbox_resolv_conf({"nameserver 127.0.0.53\nsearch lab.example\noptions edns0\n", std::nullopt},
                                    {parse_name_server("198.51.100.53"), parse_name_server("2001:db8::53")});
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("nameserver 198.51.100.53\nnameserver 2001:db8::53\n"));
    EXPECT_THAT(*text, HasSubstr("search lab.example\n"));
    EXPECT_THAT(*text, HasSubstr("options edns0\n"));
    EXPECT_EQ(text->find("127.0.0.53"), std::string::npos);
}

TEST(SandboxResolvConf, SystemdStubUsesUpstreams) {
    auto text = sandbox_resolv_conf({"# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
                                     "nameserver 198.51.100.53\nnameserver 2001:db8::53\n"},
                                    none);
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("nameserver 198.51.100.53\nnameserver 2001:db8::53\n"));
    EXPECT_EQ(text->find("127.0.0.53"), std::string::npos);
}

TEST(SandboxResolvConf, DropsLoopbackServersKeepsOthers) {
    auto text = sandbox_resolv_conf({"nameserver 127.0.0.1\nnameserver 198.51.100.53\nnameserver ::1\n", std::nullopt},
                                    none);
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("nameserver 198.51.100.53\n"));
    EXPECT_EQ(text->find("127.0.0.1"), std::string::npos);
    EXPECT_EQ(text->find("::1"), std::string::npos);
}

TEST(SandboxResolvConf, LoopbackOnlySaysWhatToPass) {
    try {
        sandbox_resolv_conf({"nameserver 127.0.0.1\n", std::nullopt}, none);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.doing(), "dns");
        EXPECT_THAT(e.why(), HasSubstr("127.0.0.1"));
        EXPECT_THAT(e.why(), HasSubstr("--dns=IP"));
    }
}

// Why sandbox_resolv_conf() refuses `host` without --dns servers, or "" when it does not.
std::string refusal(const ResolverFiles& host) {
    try {
        sandbox_resolv_conf(host, none);
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

TEST(SandboxResolvConf, StubWithoutUpstreamsSaysWhatToPass) {
    EXPECT_THAT(refusal({"nameserver 127.0.0.53\n", "# no servers\n"}),
                HasSubstr("systemd-resolved's stub 127.0.0.53, which the sandbox cannot reach, and "
                          "/run/systemd/resolve/resolv.conf lists no upstream server; pass --dns=IP"));
    // Without resolved's file the stub is one more loopback server.
    EXPECT_THAT(refusal({"nameserver 127.0.0.53\n", std::nullopt}),
                HasSubstr("the host's name server 127.0.0.53 is on loopback, which the sandbox cannot reach; pass --dns=IP"));
}

TEST(SandboxResolvConf, EmptyHostFileMeansLoopback) {
    EXPECT_THAT(refusal({"", std::nullopt}), HasSubstr("/etc/resolv.conf names no server (so 127.0.0.1)"));
    EXPECT_TRUE(sandbox_resolv_conf({"", std::nullopt}, {parse_name_server("198.51.100.53")}));
}

}  // namespace
}  // namespace nsrun::net
