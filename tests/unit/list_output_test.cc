// `nsrun list` output (cmd/list_output.cc): the table and the JSON, with their escaping.
#include <gtest/gtest.h>

#include "cmd/list_output.h"
#include "cmd/sandbox_record.h"

namespace nsrun::cli {
namespace {

TEST(JsonString, EscapesWhatJsonRequires) {
    EXPECT_EQ(json_string("plain"), "\"plain\"");
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string("\n\t\r"), "\"\\n\\t\\r\"");
    EXPECT_EQ(json_string(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
    EXPECT_EQ(json_string(std::string("a\0b", 3)), "\"a\\u0000b\"");
    EXPECT_EQ(json_string("/"), "\"/\"");
}

TEST(JsonString, KeepsValidUtf8) {
    EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonString, ReplacesInvalidUtf8) {
    EXPECT_EQ(json_string("\xff"), "\"\\ufffd\"");
    EXPECT_EQ(json_string("a\xc3"), "\"a\\ufffd\"") << "truncated sequence";
    EXPECT_EQ(json_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"") << "overlong";
    EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"") << "surrogate";
    EXPECT_EQ(json_string("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"") << "above U+10FFFF";
    EXPECT_EQ(json_string("\xe2\x82x"), "\"\\ufffd\\ufffdx\"");
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
