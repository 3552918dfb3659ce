// Named sandboxes' records and `nsrun list` output: formatting, parsing, JSON escaping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "cmd/list_output.h"
#include "cmd/options.h"
#include "cmd/sandbox_record.h"

namespace nsrun::cli {
namespace {

SandboxRecord Example() {
    SandboxRecord r;
    r.name = "web";
    r.nsrun_pid = 4100;
    r.pid_namespace = 4026531836;
    r.netns = 4026532999;
    r.init_pid = 4102;
    r.init_start_time = 276421;
    r.addresses = {"203.0.113.7", "2001:db8::7"};
    r.ports = {"8080:80/tcp", "198.51.100.2:53:53/udp"};
    r.seccomp = "/etc/nsrun/strict.profile";
    r.uid = 65534;
    r.gid = 65533;
    r.command = {"sh", "-c", "echo 'a\\b'\nexit 3", ""};
    r.env = {"PATH=/usr/bin:/bin", "MULTI=line\none", "EMPTY="};
    return r;
}

TEST(SandboxRecord, RoundTripsEveryField) {
    const SandboxRecord r = Example();
    auto parsed = parse_record(format_record(r));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->complete);
    EXPECT_EQ(parsed->name, r.name);
    EXPECT_EQ(parsed->nsrun_pid, r.nsrun_pid);
    EXPECT_EQ(parsed->pid_namespace, r.pid_namespace);
    EXPECT_EQ(parsed->netns, r.netns);
    EXPECT_EQ(parsed->init_pid, r.init_pid);
    EXPECT_EQ(parsed->init_start_time, r.init_start_time);
    EXPECT_EQ(parsed->addresses, r.addresses);
    EXPECT_EQ(parsed->ports, r.ports);
    EXPECT_EQ(parsed->seccomp, r.seccomp);
    EXPECT_EQ(parsed->uid, r.uid);
    EXPECT_EQ(parsed->gid, r.gid);
    EXPECT_EQ(parsed->command, r.command);
    EXPECT_EQ(parsed->env, r.env);
}

TEST(SandboxRecord, StagesConcatenateToTheWholeRecord) {
    const SandboxRecord r = Example();
    EXPECT_EQ(format_record_head(r) + format_record_netns(r) + format_record_body(r), format_record(r));
    SandboxRecord no_netns = r;
    no_netns.netns.reset();
    EXPECT_EQ(format_record_netns(no_netns), "");
}

TEST(SandboxRecord, EscapesBackslashAndNewlineOnly) {
    EXPECT_EQ(record_line("arg", "a\\b\nc d\t"), "arg a\\\\b\\nc d\t\n");
}

TEST(SandboxRecord, EachStageAloneIsAnIncompleteRecord) {
    const SandboxRecord r = Example();
    auto head = parse_record(format_record_head(r));
    ASSERT_TRUE(head);
    EXPECT_FALSE(head->complete);
    EXPECT_EQ(head->name, "web");
    EXPECT_FALSE(head->netns);
    auto with_netns = parse_record(format_record_head(r) + format_record_netns(r));
    ASSERT_TRUE(with_netns);
    EXPECT_FALSE(with_netns->complete);
    EXPECT_EQ(with_netns->netns, r.netns);
}

TEST(SandboxRecord, AHalfWrittenLastLineIsNotRead) {
    const std::string text = format_record(Example());
    // Cut inside "end\n" and inside the line before it.
    for (size_t cut : {text.size() - 1, text.size() - 3, text.size() - 6}) {
        auto parsed = parse_record(text.substr(0, cut));
        ASSERT_TRUE(parsed) << cut;
        EXPECT_FALSE(parsed->complete) << cut;
    }
    auto partial_number = parse_record(format_record_head(Example()) + "init-pid 41");
    ASSERT_TRUE(partial_number);
    EXPECT_EQ(partial_number->init_pid, 0);
}

TEST(SandboxRecord, RefusesWhatIsNotARecord) {
    EXPECT_FALSE(parse_record(""));
    EXPECT_FALSE(parse_record("nsrun-sandbox 2\nname x\nend\n"));
    EXPECT_FALSE(parse_record("name x\nend\n"));
    const std::string head = "nsrun-sandbox 1\n";
    EXPECT_FALSE(parse_record(head + "init-pid -1\nend\n"));
    EXPECT_FALSE(parse_record(head + "init-pid 99999999999999999999\nend\n"));
    EXPECT_FALSE(parse_record(head + "init-pid 01\nend\n"));
    EXPECT_FALSE(parse_record(head + "uid 4294967296\nend\n"));
    EXPECT_FALSE(parse_record(head + "arg a\\x\nend\n"));
    EXPECT_FALSE(parse_record(head + "arg a\\\nend\n"));
    EXPECT_FALSE(parse_record(head + "noseparator\nend\n"));
    EXPECT_FALSE(parse_record(head + "end\nname x\n")) << "lines after end";
}

TEST(SandboxRecord, IgnoresKeysItDoesNotKnow) {
    auto parsed = parse_record("nsrun-sandbox 1\nname x\nfuture-field whatever\nend\n");
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->complete);
    EXPECT_EQ(parsed->name, "x");
}

TEST(SandboxRecord, EmptyValuesSurvive) {
    SandboxRecord r;
    r.name = "n";
    r.command = {"", "x", ""};
    auto parsed = parse_record(format_record(r));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->command, r.command);
}

// The "command" array of a sandbox whose command is `arg`, as `nsrun list --json` prints it.
std::string command_json(const std::string& arg) {
    SandboxRecord r;
    r.name = "n";
    r.command = {arg};
    std::string out = sandboxes_json({r});
    size_t at = out.find("\"command\": ") + 11;
    return out.substr(at, out.rfind("]}") + 1 - at);
}

TEST(SandboxesJson, EscapesWhatJsonRequires) {
    EXPECT_EQ(command_json("plain"), "[\"plain\"]");
    EXPECT_EQ(command_json("a\"b\\c"), "[\"a\\\"b\\\\c\"]");
    EXPECT_EQ(command_json("\n\t\r\b\f"), "[\"\\n\\t\\r\\b\\f\"]");
    EXPECT_EQ(command_json(std::string("\x01\x1f", 2)), "[\"\\u0001\\u001f\"]");
    EXPECT_EQ(command_json(std::string("a\0b", 3)), "[\"a\\u0000b\"]");
    EXPECT_EQ(command_json("/"), "[\"/\"]");
}

TEST(SandboxesJson, KeepsValidUtf8) {
    EXPECT_EQ(command_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
}

// U+FFFD for each maximal ill-formed subsequence (Unicode's recommended practice, which nlohmann follows).
TEST(SandboxesJson, ReplacesInvalidUtf8) {
    const std::string r = "\xef\xbf\xbd";  // U+FFFD
    EXPECT_EQ(command_json("\xff"), "[\"" + r + "\"]");
    EXPECT_EQ(command_json("a\xc3"), "[\"a" + r + "\"]") << "truncated sequence";
    EXPECT_EQ(command_json("\xc0\xaf"), "[\"" + r + r + "\"]") << "overlong";
    EXPECT_EQ(command_json("\xed\xa0\x80"), "[\"" + r + r + r + "\"]") << "surrogate";
    EXPECT_EQ(command_json("\xf4\x90\x80\x80"), "[\"" + r + r + r + r + "\"]") << "above U+10FFFF";
    EXPECT_EQ(command_json("\xe2\x82x"), "[\"" + r + "x\"]");
}

TEST(SandboxesJson, EmptyIsAnEmptyArray) { EXPECT_EQ(sandboxes_json({}), "[]\n"); }

TEST(SandboxesJson, OneObjectPerSandbox) {
    SandboxRecord a;
    a.name = "a";
    a.nsrun_pid = 10;
    a.init_pid = 11;
    a.addresses = {"203.0.113.2"};
    a.command = {"echo", "\"hi\""};
    SandboxRecord b;
    b.name = "b";
    b.nsrun_pid = 20;
    b.init_pid = 21;
    b.ports = {"8080:80/tcp"};
    b.command = {"true"};
    EXPECT_EQ(sandboxes_json({a, b}),
              "[\n"
              " {\"name\": \"a\", \"pid\": 10, \"init_pid\": 11, \"addresses\": [\"203.0.113.2\"], \"ports\": [], "
              "\"command\": [\"echo\", \"\\\"hi\\\"\"]},\n"
              " {\"name\": \"b\", \"pid\": 20, \"init_pid\": 21, \"addresses\": [], \"ports\": [\"8080:80/tcp\"], "
              "\"command\": [\"true\"]}\n"
              "]\n");
}

TEST(SandboxesJson, AnUnnamedSandboxHasANullName) {
    SandboxRecord unnamed;
    unnamed.nsrun_pid = 30;
    unnamed.init_pid = 31;
    unnamed.ports = {"8080:80/tcp"};
    unnamed.command = {"true"};
    EXPECT_EQ(sandboxes_json({unnamed}),
              "[\n {\"name\": null, \"pid\": 30, \"init_pid\": 31, \"addresses\": [], \"ports\": [\"8080:80/tcp\"], "
              "\"command\": [\"true\"]}\n]\n");
    const std::string table = sandboxes_table({unnamed});
    EXPECT_EQ(table.substr(table.find('\n') + 1, 2), "- ") << table;
}

TEST(SandboxesTable, AlignsColumnsAndFillsEmptyCells) {
    SandboxRecord a;
    a.name = "web";
    a.nsrun_pid = 4100;
    a.addresses = {"203.0.113.7", "2001:db8::7"};
    a.ports = {"8080:80/tcp"};
    a.command = {"sh", "-c", "sleep 9"};
    SandboxRecord b;
    b.name = "db-long-name";
    b.nsrun_pid = 7;
    b.command = {"x"};
    EXPECT_EQ(sandboxes_table({a, b}),
              "NAME          PID   ADDRESSES                PORTS        COMMAND\n"
              "web           4100  203.0.113.7,2001:db8::7  8080:80/tcp  sh -c sleep 9\n"
              "db-long-name  7     -                        -            x\n");
    EXPECT_EQ(sandboxes_table({}), "NAME  PID  ADDRESSES  PORTS  COMMAND\n");
}

TEST(SandboxesTable, ShowsControlCharactersEscaped) {
    SandboxRecord a;
    a.name = "n";
    a.command = {"printf", "\x1b[2J\n"};
    std::string table = sandboxes_table({a});
    EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
    EXPECT_NE(table.find("printf \\x1b[2J\\x0a"), std::string::npos) << table;
}

Sources NoSources() {
    return Sources{[](const std::string&) { return std::optional<std::string>(); },
                   [](const std::string&) { return std::optional<std::string>(); }};
}

TEST(ExecCommandLine, ABadNameIsTheSubcommandsError) {
    try {
        parse_command_line({"exec", "bad/name", "true"}, NoSources());
        FAIL() << "accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.doing(), "exec bad/name");
        EXPECT_EQ(error.why(), "a name has only letters, digits, '-', '_' and '.'");
    }
    auto parsed = parse_command_line({"exec", "web", "--", "sh", "-c", "x"}, NoSources());
    EXPECT_EQ(parsed.action, ParseResult::Action::exec);
    EXPECT_EQ(parsed.target, "web");
    EXPECT_EQ(parsed.options.command, (std::vector<std::string>{"sh", "-c", "x"}));
}

TEST(ExecCommandLine, TakesUserChdirSetenvKeepFdBeforeOrAfterTheName) {
    auto parsed = parse_command_line({"exec", "--user=nobody", "-v", "web", "--chdir", "/tmp", "--setenv=A=1",
                                      "--keep-fd=5", "--", "id", "--user"},
                                     NoSources());
    EXPECT_EQ(parsed.action, ParseResult::Action::exec);
    EXPECT_EQ(parsed.target, "web");
    EXPECT_EQ(parsed.options.user, "nobody");
    EXPECT_EQ(parsed.options.chdir, "/tmp");
    EXPECT_EQ(parsed.options.setenv, (std::vector<std::string>{"A=1"}));
    EXPECT_EQ(parsed.options.keep_fds, (std::vector<int>{5}));
    EXPECT_TRUE(parsed.options.verbose);
    EXPECT_EQ(parsed.options.command, (std::vector<std::string>{"id", "--user"}));
    // Options end at the program.
    auto program_options = parse_command_line({"exec", "web", "ls", "--chdir=/x"}, NoSources());
    EXPECT_EQ(program_options.options.chdir, std::nullopt);
    EXPECT_EQ(program_options.options.command, (std::vector<std::string>{"ls", "--chdir=/x"}));
}

TEST(ExecCommandLine, BadOptionsAreOneLine) {
    auto error_of = [](std::vector<std::string> args) {
        try {
            parse_command_line(args, NoSources());
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
        auto parsed = parse_command_line(args, NoSources());
        EXPECT_EQ(parsed.action, ParseResult::Action::print_help);
        EXPECT_THAT(parsed.text, ::testing::HasSubstr("Usage: nsrun " + args[0]));
    }
    auto exec = parse_command_line({"exec", "--help"}, NoSources());
    for (const char* option : {"--user", "--chdir", "--setenv", "--keep-fd"})
        EXPECT_THAT(exec.text, ::testing::HasSubstr(option));
}

}  // namespace
}  // namespace nsrun::cli
