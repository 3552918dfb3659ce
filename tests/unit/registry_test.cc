// The sandboxes' registry (cmd/registry.cc): who holds a name, who is alive, what a dead owner left.
// Records live in a scratch directory (set_sandbox_dir); a live owner is simulated by holding the owner byte
// from another open file, exactly as a running nsrun holds it. SandboxClaim::take needs root, as nsrun does.
#include "cmd/registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "base/error.h"
#include "base/unique_fd.h"
#include "runtime/join.h"

namespace nsrun::cli {
namespace {

using ::testing::HasSubstr;

class RegistryTest : public ::testing::Test {
protected:
    void SetUp() override {
        char scratch[] = "/tmp/nsrun-registry-test.XXXXXX";
        ASSERT_NE(::mkdtemp(scratch), nullptr);
        scratch_ = scratch;
        previous_ = sandbox_dir();
        set_sandbox_dir(scratch_ + "/sandboxes");
        ASSERT_EQ(::mkdir(sandbox_dir().c_str(), 0755), 0);
    }
    void TearDown() override {
        set_sandbox_dir(previous_);
        std::filesystem::remove_all(scratch_);
    }

    // A name nothing else on the machine uses (/run/netns is the machine's).
    static std::string Name(const std::string& tag) { return "nsrun-unit-" + std::to_string(::getpid()) + "-" + tag; }
    static std::string Path(const std::string& name) { return sandbox_dir() + "/" + name; }
    static bool Exists(const std::string& name) {
        struct stat st{};
        return ::lstat(Path(name).c_str(), &st) == 0;
    }

    // A complete record of a running sandbox NAME whose supervisor is `nsrun_pid`.
    static SandboxRecord Complete(const std::string& name, pid_t nsrun_pid) {
        SandboxRecord record;
        record.name = name;
        record.nsrun_pid = nsrun_pid;
        struct stat pid_namespace{};
        EXPECT_EQ(::stat("/proc/self/ns/pid", &pid_namespace), 0);
        record.pid_namespace = uint64_t(pid_namespace.st_ino);
        // A record whose init is not the process that started then is a sandbox ending (cmd/registry.cc): this
        // test process stands in for the init.
        record.init_pid = ::getpid();
        record.init_start_time = runtime::process_start_time(::getpid()).value_or(0);
        record.addresses = {"203.0.113.9"};
        record.command = {"sleep", "1000"};
        return record;
    }

    // Writes `record` as NAME's record; with `live`, holds the owner byte as its nsrun would (returned fd).
    static UniqueFd Write(const std::string& name, const SandboxRecord& record, bool live) {
        UniqueFd fd(::open(Path(name).c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        EXPECT_TRUE(fd);
        const std::string text = format_record(record);
        EXPECT_EQ(::write(fd.get(), text.data(), text.size()), ssize_t(text.size()));
        if (live) {
            struct flock owner{};
            owner.l_type = F_WRLCK;
            owner.l_whence = SEEK_SET;
            owner.l_start = 0;
            owner.l_len = 1;
            EXPECT_EQ(::fcntl(fd.get(), F_OFD_SETLK, &owner), 0);
        }
        return fd;
    }

    static std::string Read(const std::string& name) {
        std::string text;
        UniqueFd fd(::open(Path(name).c_str(), O_RDONLY | O_CLOEXEC));
        char buf[4096];
        for (ssize_t n; fd && (n = ::read(fd.get(), buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
        return text;
    }

private:
    std::string scratch_;
    std::string previous_;
};

TEST_F(RegistryTest, AClaimedNameIsRefusedUntilItsClaimEnds) {
    const std::string name = Name("claimed");
    {
        SandboxClaim claim = SandboxClaim::take(name);
        try {
            SandboxClaim::take(name);
            ADD_FAILURE() << "a second claim of " << name << " was granted";
        } catch (const Error& error) {
            EXPECT_EQ(error.doing(), "--name " + name);
            EXPECT_EQ(error.why(), "a sandbox of that name is running (nsrun pid " + std::to_string(::getpid()) + ")");
        }
        EXPECT_EQ(find_sandbox(name).state, Lookup::State::starting);
    }
    EXPECT_FALSE(Exists(name)) << "the claim's end removes the record";
    SandboxClaim again = SandboxClaim::take(name);
    EXPECT_TRUE(Exists(name));
}

TEST_F(RegistryTest, ALiveOwnersRecordIsFoundRunning) {
    const std::string name = Name("live");
    UniqueFd owner = Write(name, Complete(name, 4100), true);
    Lookup found = find_sandbox(name);
    ASSERT_EQ(found.state, Lookup::State::running);
    EXPECT_EQ(found.record.nsrun_pid, 4100);
    EXPECT_EQ(found.record.addresses, std::vector<std::string>{"203.0.113.9"});
    EXPECT_TRUE(Exists(name));
    try {
        SandboxClaim::take(name);
        ADD_FAILURE() << "a claim of a live owner's name was granted";
    } catch (const Error& error) {
        EXPECT_THAT(error.why(), HasSubstr("a sandbox of that name is running (nsrun pid 4100)"));
    }
    EXPECT_EQ(Read(name), format_record(Complete(name, 4100))) << "a refused claim changes nothing";
}

// Liveness is the lock, never the pid: the record names this very process, alive, but nobody holds its lock
// (the owner died and its pid was reused).
TEST_F(RegistryTest, ADeadOwnersRecordIsRemovedEvenWhenItsPidIsAlive) {
    const std::string name = Name("dead");
    Write(name, Complete(name, ::getpid()), false);
    EXPECT_EQ(find_sandbox(name).state, Lookup::State::none);
    EXPECT_FALSE(Exists(name));
}

TEST_F(RegistryTest, ListShowsLiveOwnersAndRemovesDeadOnes) {
    const std::string live = Name("a-live"), dead = Name("b-dead");
    UniqueFd owner = Write(live, Complete(live, 4100), true);
    Write(dead, Complete(dead, ::getpid()), false);
    std::vector<SandboxRecord> running = running_sandboxes().running;
    ASSERT_EQ(running.size(), 1u);
    EXPECT_EQ(running[0].name, live);
    EXPECT_TRUE(Exists(live));
    EXPECT_FALSE(Exists(dead));
}

TEST_F(RegistryTest, ATakeOfADeadOwnersNameStartsAFreshRecord) {
    const std::string name = Name("reused");
    Write(name, Complete(name, ::getpid()), false);
    SandboxClaim claim = SandboxClaim::take(name);
    auto record = parse_record(Read(name));
    ASSERT_TRUE(record) << Read(name);
    EXPECT_FALSE(record->complete) << "the dead owner's record is gone: " << Read(name);
    EXPECT_EQ(record->nsrun_pid, ::getpid());
    EXPECT_TRUE(record->command.empty());
    EXPECT_EQ(find_sandbox(name).state, Lookup::State::starting);
}

}  // namespace
}  // namespace nsrun::cli
