// What makes a file under /run/nsrun trustworthy: root's, writable by nobody else, of the expected type.
#include "base/state_directory.h"

#include <gtest/gtest.h>

namespace nsrun {
namespace {

struct stat Status(mode_t mode, uid_t uid = 0) {
    struct stat st{};
    st.st_mode = mode;
    st.st_uid = uid;
    return st;
}

TEST(UntrustedState, RootsAloneIsTrusted) {
    EXPECT_EQ(untrusted_state(Status(S_IFDIR | 0755), S_IFDIR), "");
    EXPECT_EQ(untrusted_state(Status(S_IFDIR | 0700), S_IFDIR), "");
    EXPECT_EQ(untrusted_state(Status(S_IFREG | 0600), S_IFREG), "");
    EXPECT_EQ(untrusted_state(Status(S_IFREG | 0644), S_IFREG), "");
}

TEST(UntrustedState, EverythingElseSaysWhy) {
    EXPECT_EQ(untrusted_state(Status(S_IFREG | 0600, 1000), S_IFREG), "owned by uid 1000, not root");
    EXPECT_EQ(untrusted_state(Status(S_IFREG | 0620), S_IFREG), "writable by its group or others");
    EXPECT_EQ(untrusted_state(Status(S_IFDIR | 0757), S_IFDIR), "writable by its group or others");
    EXPECT_EQ(untrusted_state(Status(S_IFLNK | 0777), S_IFREG), "a symbolic link");
    EXPECT_EQ(untrusted_state(Status(S_IFIFO | 0600), S_IFREG), "not a regular file");
    EXPECT_EQ(untrusted_state(Status(S_IFREG | 0755), S_IFDIR), "not a directory");
}

}  // namespace
}  // namespace nsrun
