// `nsrun list` output (cmd/list_output.cc): the table and the JSON, with their escaping.
#include <gtest/gtest.h>

#include <string>

#include "cmd/list_output.h"
#include "cmd/sandbox_record.h"

namespace nsrun::cli {
namespace {

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

}  // namespace
}  // namespace nsrun::cli
