#include "cmd/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "base/error.h"
#include "runtime/seccomp_filter.h"

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

TEST(Options, ConnectionLimitIsTheConfigFilesHostWideSetting) {
    EXPECT_EQ(parse({"--net=nat", "true"}).options.connections, net::kDefaultConnectionLimit);
    FakeHost host;
    host.files["/etc/nsrun/nsrun.conf"] = "subnet = 10.9.0.0/16\nconnections = 64  # per sandbox\n";
    EXPECT_EQ(parse({"--net=nat", "true"}, host).options.connections, 64u);
    host.env["NSRUN_CONFIG"] = "/other.conf";
    host.files["/other.conf"] = "connections = 7\n";
    EXPECT_EQ(parse({"--net=nat", "true"}, host).options.connections, 7u);
    for (const char* bad : {"0", "-1", "lots", "", "16777217"}) {
        host.files["/other.conf"] = std::string("connections = ") + bad + "\n";
        EXPECT_THAT(error_of({"--net=nat", "true"}, host), HasSubstr("/other.conf: connections")) << bad;
    }
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
    // --net's own line names every mode (other options' lines mention --net=move:IFACE too).
    const size_t net = help.text.find("  --net "), dns = help.text.find("  --dns ");
    const std::string net_line = help.text.substr(net, dns - net);
    EXPECT_THAT(net_line, HasSubstr("host: the host's network; move:IFACE"));
    auto version = parse({"--version"});
    EXPECT_EQ(version.action, ParseResult::Action::print_version);
    EXPECT_EQ(version.text, std::string("nsrun ") + NSRUN_VERSION + "\n");
    auto profile = parse({"--print-seccomp-profile"});
    EXPECT_EQ(profile.action, ParseResult::Action::print_seccomp_profile);
    EXPECT_EQ(profile.text, runtime::SeccompFilter::default_profile_json());
    EXPECT_THAT(help.text, HasSubstr("--print-seccomp-profile"));
}

// --net-only keeps the rest of the sandbox's defaults out of the way, and works with every network mode.
TEST(Options, NetOnlyWithEachNetworkMode) {
    auto management = parse({"--net-only", "--name=mgmt", "--net=move:ens19", "--address=192.0.2.10/24",
                             "--gateway=192.0.2.1", "--", "/usr/sbin/sshd", "-D"});
    EXPECT_TRUE(management.options.net_only);
    EXPECT_EQ(management.options.net, NetMode::move);
    EXPECT_THAT(management.options.command, ElementsAre("/usr/sbin/sshd", "-D"));
    EXPECT_TRUE(parse({"--net-only", "--net=nat", "--dns=198.51.100.53", "x"}).options.net_only);
    EXPECT_TRUE(parse({"--net-only", "x"}).options.net_only);
    EXPECT_FALSE(parse({"x"}).options.net_only);
}

// Each option that would isolate or restrict the program more is a contradiction, refused in one line.
TEST(Options, NetOnlyRefusesMoreIsolation) {
    for (const auto& more : std::vector<std::vector<std::string>>{
             {"--seccomp=default"}, {"--seccomp=off"}, {"--cap-add=net_admin"}, {"--user=nobody"},
             {"--unshare=ipc"}, {"--hostname=box"}, {"--read-only"}, {"--tmpfs=/tmp"}, {"--bind=/tmp"},
             {"--ro-bind=/etc"}}) {
        std::vector<std::string> args{"--net-only", "--net=nat"};
        args.insert(args.end(), more.begin(), more.end());
        args.push_back("x");
        std::string message = error_of(args);
        EXPECT_THAT(message, HasSubstr("with --net-only: --net-only runs the program as you")) << more[0];
        EXPECT_THAT(message, HasSubstr(more[0].substr(0, more[0].find('=')))) << message;
    }
    EXPECT_THAT(error_of({"--net-only", "--net=host", "x"}), HasSubstr("nothing would be isolated"));
}

TEST(Options, DevBindTakesDeviceAndPlaceBelowDev) {
    auto result = parse({"--dev-bind=/dev/kvm", "--dev-bind=/dev/dri/renderD128:/dev/dri/card", "x"});
    ASSERT_EQ(result.options.device_binds.size(), 2u);
    EXPECT_EQ(result.options.device_binds[0].source, "/dev/kvm");
    EXPECT_EQ(result.options.device_binds[0].target, "/dev/kvm");
    EXPECT_EQ(result.options.device_binds[1].source, "/dev/dri/renderD128");
    EXPECT_EQ(result.options.device_binds[1].target, "/dev/dri/card");
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
        BadInput{{"--net=nat", "x"}, {}, {{"/etc/nsrun/nsrun.conf", "\nsubnet = x\n"}}, "nsrun.conf: subnet x"},
        BadInput{{"--dev-bind=dev/kvm", "x"}, {}, {}, "--dev-bind dev/kvm: DEV must be an absolute path"},
        BadInput{{"--dev-bind=/dev/kvm:/etc/kvm", "x"}, {}, {}, "--dev-bind /dev/kvm:/etc/kvm: DST must be a path below /dev/"},
        BadInput{{"--dev-bind=/dev/kvm:/dev/", "x"}, {}, {}, "DST must be a path below /dev/"},
        BadInput{{"--dev-bind=/dev/kvm:/dev/../etc/x", "x"}, {}, {}, "DST must be a path below /dev/"},
        BadInput{{"--dev-bind=/dev/kvm:/dev/a//b", "x"}, {}, {}, "DST must be a path below /dev/"},
        BadInput{{"--dev-bind=/dev/kvm:/dev/./kvm", "x"}, {}, {}, "DST must be a path below /dev/"},
        BadInput{{"--tmpfs=/", "x"}, {}, {}, "--tmpfs /: nothing can be mounted on /"},
        BadInput{{"--tmpfs=/tmp/..", "x"}, {}, {}, "--tmpfs /tmp/..: nothing can be mounted on /"},
        BadInput{{"--ro-bind=/usr:/", "x"}, {}, {}, "--ro-bind /usr:/: nothing can be mounted on /"}));

runtime::IdPool pool_of(std::vector<std::string> args, const FakeHost& host = {}) {
    return parse(std::move(args), host).options.id_pool;
}

TEST(IdPoolOption, OptionThenEnvironmentThenConfigThenDefault) {
    FakeHost host;
    EXPECT_EQ(pool_of({"true"}, host), runtime::IdPool{});
    host.files["/etc/nsrun/nsrun.conf"] = "subnet = 203.0.113.0/24\nid-pool = 0x100000-0x200000  # ours\n";
    EXPECT_EQ(pool_of({"true"}, host), (runtime::IdPool{0x100000, 0x200000}));
    host.env["NSRUN_ID_POOL"] = "0x300000-0x400000";
    EXPECT_EQ(pool_of({"true"}, host), (runtime::IdPool{0x300000, 0x400000}));
    EXPECT_EQ(pool_of({"--id-pool=0x500000-0x600000", "true"}, host), (runtime::IdPool{0x500000, 0x600000}));
}

TEST(IdPoolOption, BadValuesNameTheirOrigin) {
    FakeHost host;
    host.files["/etc/nsrun/nsrun.conf"] = "id-pool = 5-6\n";
    EXPECT_THAT(error_of({"true"}, host), HasSubstr("/etc/nsrun/nsrun.conf: id-pool 5-6: "));
    host.env["NSRUN_ID_POOL"] = "x";
    EXPECT_THAT(error_of({"true"}, host), HasSubstr("NSRUN_ID_POOL x: expected FIRST-END"));
    // A launch that takes no block does not read it.
    EXPECT_EQ(error_of({"--host-identity", "true"}, host), "no error");
    EXPECT_EQ(error_of({"--user=nobody", "true"}, host), "no error");
}

TEST(IdPoolOption, OnlyWhereABlockIsTaken) {
    EXPECT_THAT(error_of({"--id-pool=0x100000-0x200000", "--host-identity", "true"}), HasSubstr("--id-pool: not with"));
    EXPECT_THAT(error_of({"--id-pool=0x100000-0x200000", "--user=nobody", "true"}), HasSubstr("--id-pool: not with"));
    EXPECT_TRUE(parse({"--host-identity", "true"}).options.host_identity);
    EXPECT_FALSE(parse({"true"}).options.host_identity);
}

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

TEST(ExecCommandLine, TakesUserChdirSetenvKeepFdBeforeOrAfterTheName) {
    auto parsed = parse_command_line({"exec", "--user=nobody", "-v", "web", "--chdir", "/tmp", "--setenv=A=1",
                                      "--keep-fd=5", "--", "id", "--user"},
                                     FakeHost{}.sources());
    EXPECT_EQ(parsed.action, ParseResult::Action::exec);
    EXPECT_EQ(parsed.target, "web");
    EXPECT_EQ(parsed.options.user, "nobody");
    EXPECT_EQ(parsed.options.chdir, "/tmp");
    EXPECT_EQ(parsed.options.setenv, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(parsed.options.keep_fds, (std::vector<int>{5}));
    EXPECT_TRUE(parsed.options.verbose);
    EXPECT_EQ(parsed.options.command, (std::vector<std::string>{"id", "--user"}));
    // Options end at the program.
    auto program_options = parse_command_line({"exec", "web", "ls", "--chdir=/x"}, FakeHost{}.sources());
    EXPECT_EQ(program_options.options.chdir, std::nullopt);
    EXPECT_EQ(program_options.options.command, (std::vector<std::string>{"ls", "--chdir=/x"}));
}

TEST(ExecCommandLine, BadOptionsAreOneLine) {
    auto error_of = [](std::vector<std::string> args) {
        try {
            parse_command_line(args, FakeHost{}.sources());
        } catch (const Error& error) {
            return std::string(error.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error_of({"exec", "--setenv=A", "web", "true"}), "--setenv A: expected K=V");
    EXPECT_EQ(error_of({"exec", "web", "--chdir=tmp", "true"}), "--chdir tmp: must be an absolute path");
    EXPECT_EQ(error_of({"exec", "--keep-fd=2", "web", "true"}),
              "--keep-fd 2: a descriptor number of 3 or more (0, 1 and 2 are always kept)");
    EXPECT_THAT(error_of({"exec", "--bogus", "web", "true"}), ::testing::HasSubstr("exec: unknown option --bogus"));
    EXPECT_THAT(error_of({"exec", "web", "--user"}), ::testing::HasSubstr("--user needs a value"));
}

TEST(SubcommandHelp, ExecAndListPrintTheirOwn) {
    for (auto args : {std::vector<std::string>{"exec", "--help"}, {"exec", "web", "-h"}, {"list", "--help"}}) {
        auto parsed = parse_command_line(args, FakeHost{}.sources());
        EXPECT_EQ(parsed.action, ParseResult::Action::print_help);
        EXPECT_THAT(parsed.text, ::testing::HasSubstr("Usage: nsrun " + args[0]));
    }
    auto exec = parse_command_line({"exec", "--help"}, FakeHost{}.sources());
    for (const char* option : {"--user", "--chdir", "--setenv", "--keep-fd"})
        EXPECT_THAT(exec.text, ::testing::HasSubstr(option));
}

}  // namespace
}  // namespace nsrun::cli
