// The id block picker's pure parts (runtime/id_block.h) and the idmapped binds' map (runtime/id_map.h).
#include "runtime/id_block.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "base/error.h"
#include "runtime/id_map.h"

namespace nsrun::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string pool_error(const std::string& text) {
    try {
        parse_id_pool(text, "--id-pool");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(IdPool, DefaultIsSystemdNspawnsRange) {
    IdPool pool;
    EXPECT_EQ(pool.first, 0x00080000u);
    EXPECT_EQ(pool.end, 0x6FFF0000u);
    EXPECT_EQ(parse_id_pool(kDefaultIdPool, "x"), pool);
    EXPECT_EQ(pool.blocks(), (0x6FFF0000u - 0x00080000u) / 65536);
}

TEST(IdPool, ParsesDecimalAndHex) {
    EXPECT_EQ(parse_id_pool("131072-262144", "x"), (IdPool{131072, 262144}));
    EXPECT_EQ(parse_id_pool("0x20000-0X40000", "x"), (IdPool{0x20000, 0x40000}));
    EXPECT_EQ(parse_id_pool(IdPool{0x20000, 0x40000}.str(), "x"), (IdPool{0x20000, 0x40000}));
}

TEST(IdPool, RefusesBadPools) {
    EXPECT_THAT(pool_error("131072"), HasSubstr("--id-pool 131072: expected FIRST-END"));
    EXPECT_THAT(pool_error("a-b"), HasSubstr("expected FIRST-END"));
    EXPECT_THAT(pool_error("131073-262144"), HasSubstr("multiples of 65536"));
    EXPECT_THAT(pool_error("0-262144"), HasSubstr("above the host's first 65536 ids"));
    EXPECT_THAT(pool_error("262144-262144"), HasSubstr("END must be above FIRST"));
    EXPECT_THAT(pool_error("0x10000-0x100000000"), HasSubstr("at most 0xffff0000"));
    EXPECT_EQ(pool_error("0x10000-0xffff0000"), "no error");
}

TEST(IdsInUse, ReadsUsersGroupsAndSubordinateRanges) {
    HostIdFiles files;
    files.passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001::/home/alice:/bin/sh\n"
                   "broken line\nbig:x:600000:600001::/:/bin/false\n";
    files.group = "root:x:0:\nstaff:x:50:alice\n# comment\nbad:x:notanumber:\n";
    files.subuid = "alice:100000:65536\n1000:0x90000:10\nnope\n";
    files.subgid = "alice:200000:1\n";
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const IdRange& r : ids_in_use(files)) ranges.emplace_back(r.first, r.end);
    EXPECT_THAT(ranges, ElementsAre(std::pair<uint64_t, uint64_t>{0, 1}, std::pair<uint64_t, uint64_t>{0, 1},
                                    std::pair<uint64_t, uint64_t>{1000, 1001}, std::pair<uint64_t, uint64_t>{1001, 1002},
                                    std::pair<uint64_t, uint64_t>{600000, 600001},
                                    std::pair<uint64_t, uint64_t>{600001, 600002}, std::pair<uint64_t, uint64_t>{0, 1},
                                    std::pair<uint64_t, uint64_t>{50, 51},
                                    std::pair<uint64_t, uint64_t>{100000, 165536},
                                    std::pair<uint64_t, uint64_t>{0x90000, 0x9000a},
                                    std::pair<uint64_t, uint64_t>{200000, 200001}));
}

TEST(CandidateBlocks, StartsAtTheRandomBlockAndWraps) {
    IdPool pool{0x10000, 0x50000};  // four blocks
    EXPECT_THAT(candidate_blocks(pool, {}, 2), ElementsAre(0x30000u, 0x40000u, 0x10000u, 0x20000u));
    EXPECT_THAT(candidate_blocks(pool, {}, 6), ElementsAre(0x30000u, 0x40000u, 0x10000u, 0x20000u));
    EXPECT_THAT(candidate_blocks(pool, {}, 0, 2), ElementsAre(0x10000u, 0x20000u));
}

TEST(CandidateBlocks, SkipsBlocksThatHoldAnIdInUse) {
    IdPool pool{0x10000, 0x50000};
    // The last id of block 1, a range straddling blocks 2 and 3: only block 4 is free.
    std::vector<IdRange> used{{0x1FFFF, 0x20000}, {0x2FFFF, 0x30001}};
    EXPECT_THAT(candidate_blocks(pool, used, 0), ElementsAre(0x40000u));
    // A range that ends exactly where a block starts does not touch it.
    EXPECT_THAT(candidate_blocks(pool, {{0, 0x10000}}, 0), ElementsAre(0x10000u, 0x20000u, 0x30000u, 0x40000u));
    EXPECT_THAT(candidate_blocks(pool, {{0, 0x50000}}, 0), IsEmpty());
}

TEST(CandidateBlocks, TriesABoundedNumber) {
    EXPECT_EQ(candidate_blocks(IdPool{}, {}, 12345).size(), kIdBlockAttempts);
}

TEST(BindIdMap, RootCallerIsTheSandboxesOwnMap) {
    EXPECT_EQ(bind_id_map(0x80000, 0), "0 524288 65536\n");
}

TEST(BindIdMap, CallerAndRootTradePlaces) {
    EXPECT_EQ(bind_id_map(0x80000, 1000),
              "1000 524288 1\n0 525288 1\n1 524289 999\n1001 525289 64535\n");
    EXPECT_EQ(bind_id_map(0x80000, 1), "1 524288 1\n0 524289 1\n2 524290 65534\n");
    EXPECT_EQ(bind_id_map(0x80000, 65535), "65535 524288 1\n0 589823 1\n1 524289 65534\n");
}

TEST(BindIdMap, ACallerAboveTheBlockLeavesRootUnmapped) {
    EXPECT_EQ(bind_id_map(0x80000, 70000), "70000 524288 1\n1 524289 65535\n");
}

}  // namespace
}  // namespace nsrun::runtime
