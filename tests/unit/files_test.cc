// base/files.h: whole-file reads (by fd from offset 0, by path in order), their limit, and sysctl values.
#include "base/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

#include "base/error.h"
#include "base/unique_fd.h"

namespace nsrun {
namespace {

class FilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        char scratch[] = "/tmp/nsrun-files-test.XXXXXX";
        ASSERT_NE(::mkdtemp(scratch), nullptr);
        dir_ = scratch;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string Make(const std::string& name, const std::string& text) {
        const std::string path = dir_ + "/" + name;
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        EXPECT_TRUE(fd);
        EXPECT_EQ(::write(fd.get(), text.data(), text.size()), ssize_t(text.size()));
        return path;
    }

    std::string dir_;
};

TEST_F(FilesTest, ReadWholeReadsFromTheStartWhateverThePosition) {
    UniqueFd fd(::open(Make("record", "nsrun-sandbox 1\nend\n").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    char skipped[4];
    ASSERT_EQ(::read(fd.get(), skipped, sizeof skipped), 4);
    EXPECT_EQ(read_whole(fd.get()), "nsrun-sandbox 1\nend\n");
    EXPECT_EQ(read_whole(fd.get()), "nsrun-sandbox 1\nend\n") << "and again";
}

TEST_F(FilesTest, MoreThanTheLimitIsNoContentButEfbig) {
    const std::string path = Make("big", std::string(40000, 'x'));
    EXPECT_EQ(read_file(path, 40000), std::string(40000, 'x'));
    errno = 0;
    EXPECT_EQ(read_file(path, 39999), std::nullopt);
    EXPECT_EQ(errno, EFBIG);
}

TEST_F(FilesTest, AMissingFileIsEnoentAndADirectoryEisdir) {
    errno = 0;
    EXPECT_EQ(read_file(dir_ + "/missing"), std::nullopt);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(read_file(dir_), std::nullopt);
    EXPECT_EQ(errno, EISDIR);
}

TEST_F(FilesTest, ASysctlIsItsFirstLineAndAMissingOneIsNone) {
    EXPECT_EQ(read_sysctl(Make("forwarding", "1\n")), "1");
    EXPECT_EQ(read_sysctl(Make("two_lines", "4096 87380\nrest\n")), "4096 87380");
    EXPECT_EQ(read_sysctl(dir_ + "/conf/gone/accept_ra"), std::nullopt);
}

TEST_F(FilesTest, WriteSysctlWritesTheValueAndALineEnd) {
    const std::string path = Make("accept_ra", "1\n");
    write_sysctl(path, "2");
    EXPECT_EQ(read_file(path), "2\n");
    try {
        write_sysctl(dir_ + "/gone", "1");
        ADD_FAILURE() << "wrote to a file that does not exist";
    } catch (const Error& error) {
        EXPECT_EQ(error.what(), "setting " + dir_ + "/gone to 1: No such file or directory");
    }
}

}  // namespace
}  // namespace nsrun
