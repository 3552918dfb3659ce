#include "netsetup/nat/rate_limit.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "netsetup/host/network_options.h"

namespace nsrun::net {
namespace {

TEST(TokenBucket, TenMegabitGetsTenMillisecondsOfBurstAndTwentyFiveOfQueue) {
    TokenBucket bucket = token_bucket_for(parse_rate("10mbit"), 1500);
    EXPECT_EQ(bucket.rate, 1'250'000u);
    EXPECT_EQ(bucket.burst, 12'500u);
    EXPECT_EQ(bucket.limit, 12'500u + 31'250u);
}

TEST(TokenBucket, SlowRatesStillPassFullFrames) {
    // 8kbit: 10 ms would be 10 bytes; a 1514-byte frame needs a bucket at least that big.
    TokenBucket bucket = token_bucket_for(parse_rate("8kbit"), 1500);
    EXPECT_EQ(bucket.rate, 1000u);
    EXPECT_EQ(bucket.burst, 2u * 1514u);
    EXPECT_EQ(bucket.limit, 2u * 1514u + 4u * 1514u);
    // A jumbo MTU raises the floor with it.
    EXPECT_EQ(token_bucket_for(parse_rate("1mbit"), 9000).burst, 2u * 9014u);
}

TEST(TokenBucket, FastRatesScaleAndStayInRange) {
    TokenBucket gigabit = token_bucket_for(parse_rate("1gbit"), 1500);
    EXPECT_EQ(gigabit.burst, 1'250'000u);
    EXPECT_EQ(gigabit.limit, 1'250'000u + 3'125'000u);
    TokenBucket top = token_bucket_for(INT32_MAX, 1500);
    EXPECT_EQ(top.rate, uint32_t(INT32_MAX));
    EXPECT_LE(top.limit, uint32_t(INT32_MAX));
    EXPECT_GT(top.limit, top.burst);
}

TEST(TokenBucket, RatesAboveWhatTbfTakesAreRefused) {
    EXPECT_NO_THROW(check_rate(parse_rate("17gbit")));
    EXPECT_THROW(check_rate(parse_rate("18gbit")), Error);
    EXPECT_THROW(check_rate(parse_rate("800gbit")), Error);
}

}  // namespace
}  // namespace nsrun::net
