// Sandboxes' records (cmd/sandbox_record.cc): formatting and parsing.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace nsrun::cli
