#include "cmd/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "base/error.h"

namespace nsrun::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct FakeHost {
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> files;
    Sources sources() const {
        return Sources{
            [this](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional(it->second);
            },
            [this](const std::string& path) -> std::optional<std::string> {
                auto it = files.find(path);
                return it == files.end() ? std::nullopt : std::optional(it->second);
            },
        };
    }
};

ParseResult parse(std::vector<std::string> args, const FakeHost& host = {}) {
    return parse_command_line(args, host.sources());
}

std::string error_of(std::vector<std::string> args, const FakeHost& host = {}) {
    try {
        parse(std::move(args), host);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(Options, DefaultsToNoNetwork) {
    auto result = parse({"true"});
    EXPECT_EQ(result.action, ParseResult::Action::run);
    EXPECT_EQ(result.options.net, NetMode::none);
    EXPECT_THAT(result.options.command, ElementsAre("true"));
}

TEST(Options, ProgramOptionsAreNotNsruns) {
    auto result = parse({"--net=nat", "curl", "-v", "--net=host", "example.com"});
    EXPECT_EQ(result.options.net, NetMode::nat);
    EXPECT_THAT(result.options.command, ElementsAre("curl", "-v", "--net=host", "example.com"));
}

TEST(Options, DoubleDashEndsOptions) {
    auto result = parse({"-v", "--", "-program", "--", "x"});
    EXPECT_TRUE(result.options.verbose);
    EXPECT_THAT(result.options.command, ElementsAre("-program", "--", "x"));
}

TEST(Options, RepeatedDns) {
    auto result = parse({"--net=nat", "--dns=198.51.100.53", "--dns", "2001:DB8:0::53", "dig"});
    EXPECT_THAT(result.options.dns, ElementsAre(net::NameServer{"198.51.100.53", false},
                                                net::NameServer{"2001:db8::53", true}));
    EXPECT_THAT(result.options.command, ElementsAre("dig"));
    // A resolver of the sandbox's own on its loopback needs no IPv6 NAT, so --ipv6=off does not refuse it.
    EXPECT_THAT(parse({"--net=nat", "--ipv6=off", "--dns=::1", "--dns=127.0.0.1", "x"}).options.dns,
                ElementsAre(net::NameServer{"::1", false}, net::NameServer{"127.0.0.1", false}));
    // With a moved interface the program's network is its own: the resolver too.
    EXPECT_THAT(parse({"--net=move:ens19", "--dns=192.0.2.53", "x"}).options.dns,
                ElementsAre(net::NameServer{"192.0.2.53", false}));
}

TEST(Options, SubnetPrecedence) {
    FakeHost host;
    EXPECT_EQ(parse({"--net=nat", "x"}, host).options.subnet.str(), "10.201.0.0/16");
    host.files["/etc/nsrun/nsrun.conf"] = "# pool\nsubnet = 203.0.113.0/24  # comment\n";
    EXPECT_EQ(parse({"--net=nat", "x"}, host).options.subnet.str(), "203.0.113.0/24");
    host.env["NSRUN_SUBNET"] = "198.51.100.0/24";
    EXPECT_EQ(parse({"--net=nat", "x"}, host).options.subnet.str(), "198.51.100.0/24");
    EXPECT_EQ(parse({"--net=nat", "--subnet=203.0.113.64/26", "x"}, host).options.subnet.str(), "203.0.113.64/26");
}

TEST(Options, ConfigFileFromEnvironment) {
    FakeHost host;
    host.env["NSRUN_CONFIG"] = "/tmp/my.conf";
    EXPECT_THAT(error_of({"--net=nat", "x"}, host), HasSubstr("/tmp/my.conf"));
    host.files["/tmp/my.conf"] = "subnet=203.0.113.0/24\n";
    EXPECT_EQ(parse({"--net=nat", "x"}, host).options.subnet.str(), "203.0.113.0/24");
}

TEST(Options, HelpAndVersion) {
    auto help = parse({"--help"});
    EXPECT_EQ(help.action, ParseResult::Action::print_help);
    EXPECT_THAT(help.text, HasSubstr("--net"));
    EXPECT_THAT(help.text, HasSubstr("Exit status"));
    auto version = parse({"--version"});
    EXPECT_EQ(version.action, ParseResult::Action::print_version);
    EXPECT_EQ(version.text, std::string("nsrun ") + NSRUN_VERSION + "\n");
}

struct BadInput {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> files;
    const char* says;
};

class OptionsBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(OptionsBadInput, IsOneClearError) {
    FakeHost host{GetParam().env, GetParam().files};
    std::string message = error_of(GetParam().args, host);
    EXPECT_THAT(message, HasSubstr(GetParam().says));
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, OptionsBadInput,
    ::testing::Values(
        BadInput{{}, {}, {}, "no program given"},
        BadInput{{"--net=nat"}, {}, {}, "no program given"},
        BadInput{{"--net=nat", "--"}, {}, {}, "no program given"},
        BadInput{{""}, {}, {}, "program name is empty"},
        BadInput{{"--bogus", "x"}, {}, {}, "unknown option --bogus"},
        BadInput{{"-z", "x"}, {}, {}, "unknown option -z"},
        BadInput{{"--net=bogus", "x"}, {}, {}, "must be none, nat, host or move:IFACE"},
        BadInput{{"--net=", "x"}, {}, {}, "--net"},
        BadInput{{"--net"}, {}, {}, "--net"},
        BadInput{{"--net=nat", "--dns=999.1.1.1", "x"}, {}, {}, "--dns 999.1.1.1: not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=1.2.3", "x"}, {}, {}, "not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=01.2.3.4", "x"}, {}, {}, "not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=abc", "x"}, {}, {}, "not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=[2001:db8::53]", "x"}, {}, {}, "not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=fe80::1%eth0", "x"}, {}, {}, "not an IPv4 or IPv6 address"},
        BadInput{{"--net=nat", "--dns=fe80::53", "x"}, {}, {}, "--dns fe80::53: a link-local server"},
        BadInput{{"--net=nat", "--ipv6=off", "--dns=2001:db8::53", "x"}, {}, {},
                 "--dns 2001:db8::53: an IPv6 name server needs the sandbox's IPv6 (--ipv6=off)"},
        BadInput{{"--dns=198.51.100.53", "x"}, {}, {}, "--dns: only with --net=nat or --net=move:IFACE"},
        BadInput{{"--net=host", "--dns=198.51.100.53", "x"}, {}, {}, "--dns: only with --net=nat or --net=move"},
        BadInput{{"--subnet=203.0.113.0/24", "x"}, {}, {}, "--subnet: only with --net=nat"},
        BadInput{{"--net=nat", "--subnet=10.0.0.0/33", "x"}, {}, {}, "--subnet 10.0.0.0/33"},
        BadInput{{"--net=nat", "--subnet=10.0.0.1/24", "x"}, {}, {}, "no host bits set"},
        BadInput{{"--net=nat", "--subnet=10.0.0.0", "x"}, {}, {}, "CIDR"},
        BadInput{{"--net=nat", "x"}, {{"NSRUN_SUBNET", "garbage"}}, {}, "NSRUN_SUBNET garbage"},
        BadInput{{"--net=nat", "x"}, {}, {{"/etc/nsrun/nsrun.conf", "pool = 1.2.3.0/24\n"}}, "unknown setting 'pool'"},
        BadInput{{"--net=nat", "x"}, {}, {{"/etc/nsrun/nsrun.conf", "subnet\n"}}, "nsrun.conf:1: expected"},
        BadInput{{"--net=nat", "x"}, {}, {{"/etc/nsrun/nsrun.conf", "\nsubnet = x\n"}}, "nsrun.conf: subnet x"}));

TEST(ExecCommandLine, ABadNameIsTheSubcommandsError) {
    try {
        parse({"exec", "bad/name", "true"});
        FAIL() << "accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.doing(), "exec bad/name");
        EXPECT_EQ(error.why(), "a name has only letters, digits, '-', '_' and '.'");
    }
    auto parsed = parse({"exec", "web", "--", "sh", "-c", "x"});
    EXPECT_EQ(parsed.action, ParseResult::Action::exec);
    EXPECT_EQ(parsed.target, "web");
    EXPECT_EQ(parsed.options.command, (std::vector<std::string>{"sh", "-c", "x"}));
}

}  // namespace
}  // namespace nsrun::cli
